"""`gateway db`: schema migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import click

from gateway.cli._runtime import reachable_engine, settings_with_logging
from gateway.core import migrator
from gateway.core.db import describe_url
from gateway.core.vault import KeyRing


@click.group()
def db() -> None:
    """Migrate the database schema (Alembic)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    _migrate(migrator.upgrade, revision)


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (default: one step back; `base` removes every table)."""
    _migrate(migrator.downgrade, revision)


@db.command()
def current() -> None:
    """Show the schema revision of the database and whether it is the newest."""
    settings = settings_with_logging()
    revision = _current(settings.database_url)
    head = migrator.head_revision()
    state = "up to date" if revision == head else f"behind head {head}: run `gateway db upgrade`"
    click.echo(f"{describe_url(settings.database_url)} is at {revision or 'base'} ({state})")


def _migrate(step: Callable[[str, str, KeyRing | None], None], revision: str) -> None:
    settings = settings_with_logging()
    before = _current(settings.database_url)
    step(settings.database_url, revision, settings.key_ring)
    after = _current(settings.database_url)
    change = "unchanged" if after == before else f"was {before or 'base'}"
    click.echo(f"{describe_url(settings.database_url)} is at {after or 'base'} ({change})")


def _current(database_url: str) -> str | None:
    async def run() -> str | None:
        async with reachable_engine(database_url, migrated=False) as engine:
            return await migrator.current_revision(engine)

    return asyncio.run(run())
