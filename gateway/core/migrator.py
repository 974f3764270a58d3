"""Schema migrations: Alembic driven from code, so the CLI, the server's start-up check and tests share it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.core.db import describe_url, sync_url
from gateway.core.errors import DatabaseUnavailable, GatewayError, SchemaOutOfDate, reason_of
from gateway.core.vault import KeyRing


def script_location() -> Path:
    return Path(str(files("migrations")))


def alembic_config(database_url: str, key_ring: KeyRing | None = None) -> Config:
    """An Alembic config for `database_url`; `key_ring` reaches data migrations that encrypt secrets."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    url = sync_url(database_url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["key_ring"] = key_ring
    return config


@cache  # the code's head never changes while it runs; readiness probes ask for it every few seconds
def head_revision() -> str:
    head = ScriptDirectory(str(script_location())).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def upgrade(database_url: str, revision: str = "head", key_ring: KeyRing | None = None) -> None:
    _run(lambda: command.upgrade(alembic_config(database_url, key_ring), revision), database_url)


def downgrade(database_url: str, revision: str, key_ring: KeyRing | None = None) -> None:
    _run(lambda: command.downgrade(alembic_config(database_url, key_ring), revision), database_url)


def _run(step: Callable[[], None], database_url: str) -> None:
    try:
        step()
    except CommandError as exc:
        raise GatewayError(f"migration failed: {exc}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise DatabaseUnavailable(f"migration on {describe_url(database_url)} failed: {reason_of(exc)}") from None


def current_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(current_revision_of)


async def ensure_schema_at_head(engine: AsyncEngine) -> None:
    """Raise `SchemaOutOfDate` unless the database has been migrated to this code's head revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutOfDate("the database has no schema yet: run `gateway db upgrade`")
    raise SchemaOutOfDate(
        f"the database schema is at revision {current}, this code expects {head}: run `gateway db upgrade`"
    )
