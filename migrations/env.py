"""Alembic environment: runs revisions on a sync connection (pysqlite or psycopg 3).

`gateway db …` passes the URL and the key ring through the Alembic config; a bare `alembic` call reads them
from the environment through the settings module.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from gateway.core.db import sync_url
from gateway.core.models import Base
from gateway.core.models.base import IntEnumType, UtcDateTime
from gateway.core.settings import load_settings

config = context.config
if "key_ring" not in config.attributes:
    settings = load_settings()
    config.attributes["key_ring"] = settings.key_ring
    if not config.get_main_option("sqlalchemy.url"):
        url = sync_url(settings.database_url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write the gateway's column types as the plain SQLAlchemy types they store, so revisions do not import them."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, IntEnumType):
        return "sa.SmallInteger()"
    return False


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds tables; with foreign keys on, dropping the old copy would fire ON DELETE rules.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=NullPool)
    with engine.connect() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run_migrations_online()
