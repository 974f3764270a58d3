"""`gateway plugins`: the connector plugins that are installed, and what is wrong with any of them."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from gateway.cli.scaffold import Names, write_scaffold
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


@plugins.command("new")
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to write it (default: ./timetracker-gateway-NAME); must be new or empty.",
)
def new_plugin(name: str, directory: Path | None) -> None:
    """Write a new connector distribution: connector, config, fake server, conformance tests, README."""
    target = directory or Path(Names(name).distribution)
    written = write_scaffold(name, target)
    click.echo(f"wrote {len(written)} files to {target}:")
    for path in written:
        click.echo(f"  {path.relative_to(target)}")
    click.echo(f"next: cd {target} && pip install -e '.[test]' && pytest")
