"""`gateway plugins`: the connector plugins that are installed, and what is wrong with any of them."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from gateway.core.plugins import build_registry


@click.group()
def plugins() -> None:
    """Connector plugins."""


@plugins.command("list")
def list_plugins() -> None:
    """List installed connectors with version, distribution, auth kind and status; exit 1 if a plugin failed."""
    registry = build_registry()
    table = Table("connector", "version", "distribution", "auth kind", "status")
    for name, info in sorted(registry.connectors.items()):
        table.add_row(name, info.version or "-", info.distribution or "-", info.auth_kind.value, "ok")
    for problem in registry.problems:
        table.add_row(
            problem.plugin, problem.version or "-", problem.distribution or "-", "-", f"failed: {problem.problem}"
        )
    Console(width=200).print(table)
    if registry.problems:
        raise click.exceptions.Exit(1)
