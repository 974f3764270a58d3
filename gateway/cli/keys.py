"""`gateway keys`: the secret key ring."""

from __future__ import annotations

import os
from pathlib import Path

import click

from gateway.core.errors import ConfigError
from gateway.core.vault import generate_key_line


@click.group()
def keys() -> None:
    """Manage the key ring that encrypts secrets at rest."""


@keys.command()
@click.option("--id", "key_id", default=None, help="Key id (default: the current month and a random suffix).")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a new key file readable by its owner only (mode 600) instead of printing the key.",
)
def generate(key_id: str | None, path: Path | None) -> None:
    """Make a new key, as an `id:key` line for GATEWAY_SECRET_KEYS or a key file."""
    line = generate_key_line(key_id)
    if path is None:
        click.echo(line)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists already; it was left unchanged") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"# TimeTracker Gateway key ring: one id:key per line, the first one encrypts.\n{line}\n")
    click.echo(f"wrote a new key to {path} (mode 600); set GATEWAY_SECRET_KEYS_FILE={path}")
