"""`gateway db`: schema migrations."""

from __future__ import annotations

import asyncio
import logging

import click

from gateway.cli._runtime import settings_with_logging
from gateway.core import migrator
from gateway.core.db import create_engine, describe_url, ping
from gateway.core.settings import Settings


@click.group()
def db() -> None:
    """Migrate the database schema (Alembic)."""


def _settings_showing_migrations() -> Settings:
    settings = settings_with_logging()
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    return settings


@db.command()
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    settings = _settings_showing_migrations()
    migrator.upgrade(settings.database_url, revision, key_ring=settings.key_ring)
    click.echo(f"{describe_url(settings.database_url)} is at {_current(settings.database_url) or 'base'}")


@db.command()
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (default: one step back; `base` removes every table)."""
    settings = _settings_showing_migrations()
    migrator.downgrade(settings.database_url, revision, key_ring=settings.key_ring)
    click.echo(f"{describe_url(settings.database_url)} is at {_current(settings.database_url) or 'base'}")


@db.command()
def current() -> None:
    """Show the schema revision of the database and whether it is the newest."""
    settings = settings_with_logging()
    revision = _current(settings.database_url)
    head = migrator.head_revision()
    state = "up to date" if revision == head else f"behind head {head}: run `gateway db upgrade`"
    click.echo(f"{describe_url(settings.database_url)} is at {revision or 'base'} ({state})")


def _current(database_url: str) -> str | None:
    async def run() -> str | None:
        engine = create_engine(database_url)
        try:
            await ping(engine)
            return await migrator.current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())
