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
    """List installed connectors: version, distribution, auth modes, capabilities, status; exit 1 if one failed."""
    registry = build_registry()
    table = Table("connector", "version", "distribution", "auth modes", "capabilities", "status")
    for name, info in sorted(registry.connectors.items()):
        modes = ", ".join(mode if mode == kind else f"{mode} ({kind})" for mode, kind in info.auth_modes.items())
        capabilities = ", ".join(info.capabilities) or "-"
        table.add_row(name, info.version or "-", info.distribution or "-", modes, capabilities, "ok")
    Console(width=200).print(table)
    # Problems go on lines of their own, unwrapped, so the whole reason can be read (and searched for).
    for problem in registry.problems:
        where = " ".join(part for part in (problem.distribution, problem.version) if part) or "not installed"
        click.echo(f"{problem.plugin} ({where}) failed: {problem.problem}")
    if registry.problems:
        raise click.exceptions.Exit(1)
