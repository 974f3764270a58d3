"""`gateway keys`: the secret key ring."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli._runtime import in_transaction, settings_with_logging
from gateway.core import secrets_at_rest
from gateway.core.errors import ConfigError
from gateway.core.secrets_at_rest import RotationResult
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


@keys.command()
def rotate() -> None:
    """Re-encrypt every stored secret with the key ring's first key, so older keys can be removed."""
    settings = settings_with_logging()
    key_ring = settings.require_key_ring()

    async def work(session: AsyncSession) -> RotationResult:
        total = await secrets_at_rest.count_secrets(session)
        with Progress(transient=True) as progress:
            task = progress.add_task("re-encrypting", total=total)
            return await secrets_at_rest.rotate(session, key_ring, progress=lambda n: progress.advance(task, n))

    result = in_transaction(settings, work)
    others = [key_id for key_id in key_ring.key_ids if key_id != key_ring.primary_id]
    click.echo(f"re-encrypted {result.reencrypted} of {result.values} stored secrets with key {key_ring.primary_id}")
    if others:
        click.echo(f"no stored secret needs key {', '.join(others)} any more; it can be removed from the key ring")
