"""`gateway db`: schema migrations."""

from __future__ import annotations

import asyncio

import click

from gateway.cli._runtime import settings_with_logging
from gateway.core import migrator
from gateway.core.db import create_engine, describe_url, ping


@click.group()
def db() -> None:
    """Migrate the database schema (Alembic)."""


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    settings = settings_with_logging()
    before = _current(settings.database_url)
    migrator.upgrade(settings.database_url, revision, key_ring=settings.key_ring)
    _report(settings.database_url, before)


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (default: one step back; `base` removes every table)."""
    settings = settings_with_logging()
    before = _current(settings.database_url)
    migrator.downgrade(settings.database_url, revision, key_ring=settings.key_ring)
    _report(settings.database_url, before)


@db.command()
def current() -> None:
    """Show the schema revision of the database and whether it is the newest."""
    settings = settings_with_logging()
    revision = _current(settings.database_url)
    head = migrator.head_revision()
    state = "up to date" if revision == head else f"behind head {head}: run `gateway db upgrade`"
    click.echo(f"{describe_url(settings.database_url)} is at {revision or 'base'} ({state})")


def _report(database_url: str, before: str | None) -> None:
    after = _current(database_url)
    change = "unchanged" if after == before else f"was {before or 'base'}"
    click.echo(f"{describe_url(database_url)} is at {after or 'base'} ({change})")


def _current(database_url: str) -> str | None:
    async def run() -> str | None:
        engine = create_engine(database_url)
        try:
            await ping(engine)
            return await migrator.current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
