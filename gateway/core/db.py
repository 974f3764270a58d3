"""Database URLs, the async engine and the session factory.

`DATABASE_URL` may name SQLite or PostgreSQL with or without a driver; the app always runs on the async
drivers (aiosqlite, psycopg 3) and Alembic on their sync counterparts (pysqlite, psycopg 3).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from gateway.core.errors import ConfigError, DatabaseUnavailable, reason_of

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg"}
_ACCEPTED_DRIVERS = {
    "sqlite": {"", "pysqlite", "aiosqlite"},
    "postgresql": {"", "psycopg", "psycopg_async"},
}
_USERINFO = re.compile(r"(//[^:/@]*):[^@]*@")


def mask_url(text: str) -> str:
    """The URL text with any password replaced by ``***``; works on text that does not parse."""
    return _USERINFO.sub(r"\1:***@", text)


def parse_database_url(database_url: str) -> URL:
    """Parse and check `DATABASE_URL`; raise `ConfigError` naming what is wrong, never the password."""
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"DATABASE_URL {mask_url(database_url)!r} is not a database URL; expected e.g. "
            "sqlite:///gateway.db or postgresql+psycopg://user@host:5432/dbname"
        ) from None
    backend = "postgresql" if url.get_backend_name() == "postgres" else url.get_backend_name()
    if backend not in _ACCEPTED_DRIVERS:
        raise ConfigError(f"DATABASE_URL uses {url.get_backend_name()!r}; the gateway supports sqlite and postgresql")
    driver = url.get_driver_name() if "+" in url.drivername else ""
    if driver not in _ACCEPTED_DRIVERS[backend]:
        raise ConfigError(
            f"DATABASE_URL asks for the driver {driver!r}; use {_ASYNC_DRIVERS[backend]}:// (or plain {backend}://)"
        )
    if backend == "postgresql" and not url.database:
        raise ConfigError("DATABASE_URL names no database: add /dbname after the host")
    return url.set(drivername=backend)


def async_url(database_url: str) -> URL:
    url = parse_database_url(database_url)
    return url.set(drivername=_ASYNC_DRIVERS[url.drivername])


def sync_url(database_url: str) -> URL:
    url = parse_database_url(database_url)
    return url.set(drivername=_SYNC_DRIVERS[url.drivername])


def is_sqlite(database_url: str) -> bool:
    return parse_database_url(database_url).drivername == "sqlite"


def describe_url(database_url: str) -> str:
    """A printable form of the URL: driver, host and database, password hidden."""
    return parse_database_url(database_url).render_as_string(hide_password=True)


# A pooled PostgreSQL connection is pinged before use only when it sat idle this long: a busy server reuses
# connections within milliseconds and does not pay a round trip per request, while one that sat through a
# database restart is found dead and replaced before a request sees it.
PING_AFTER_IDLE_SECONDS = 10.0
DEFAULT_POOL_SIZE = 20


def create_engine(
    database_url: str, *, pool_size: int | None = None, prepared_statements: bool = True, **engine_options: Any
) -> AsyncEngine:
    """The app's async engine; SQLite gets foreign keys, WAL and a busy timeout on every connection.

    On PostgreSQL the pool keeps `pool_size` connections (size it to the requests one process serves at once):
    connections above it are opened and closed per use, which costs a server process each time.
    `prepared_statements=False` keeps psycopg from preparing statements it runs often: behind a PgBouncer in
    transaction mode (before 1.21, or without `max_prepared_statements`) a statement prepared on one server
    connection is not there on the next (`GATEWAY_DB_PREPARED_STATEMENTS=false`, see the README).
    """
    url = async_url(database_url)
    if not prepared_statements and url.get_backend_name() == "postgresql":
        engine_options["connect_args"] = {**engine_options.get("connect_args", {}), "prepare_threshold": None}
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **engine_options)
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    size = pool_size or DEFAULT_POOL_SIZE
    engine_options.setdefault("max_overflow", size)
    engine = create_async_engine(url, pool_size=size, pool_use_lifo=True, **engine_options)
    event.listen(engine.sync_engine.pool, "connect", _note_returned)
    event.listen(engine.sync_engine.pool, "checkin", _note_returned)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


_RETURNED_AT = "gateway_returned_at"


def _note_returned(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    returned = record.info.get(_RETURNED_AT)
    if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        # The ping began a transaction; end it, so the checkout finds the connection idle (an autocommit session
        # can only be set up on an idle connection).
        dbapi_connection.rollback()
    except Exception as exc:
        # The pool discards the connection and checks out another (SQLAlchemy's pessimistic disconnect handling).
        raise DisconnectionError(reason_of(exc)) from exc


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off so that `_begin_immediate` decides how to begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE rules) unless every connection turns them on.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if _is_file_database(dbapi_connection):
        # WAL lets the API read while an in-process sync job writes.
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    options = connection.get_execution_options()
    if options.get(STATEMENT_BY_STATEMENT):
        # No BEGIN: every statement is its own transaction (sqlite3 runs with isolation_level None).
        return
    if options.get(READ_ONLY):
        # A read-only transaction (a long export) must not hold the write lock while it streams.
        connection.exec_driver_sql("BEGIN")
        return
    # SQLite runs one writer at a time. A deferred transaction that reads first and writes later can fail at once
    # with "database is locked" when another writer got there first; taking the write lock at BEGIN makes it wait
    # (busy_timeout) instead. PostgreSQL is the database for concurrency; this keeps the embedded one correct.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_file_database(dbapi_connection: Any) -> bool:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA database_list")
        rows = cursor.fetchall()
    except sqlite3.Error:
        return False
    finally:
        cursor.close()
    return any(row[1] == "main" and row[2] for row in rows)


# Execution option of a transaction that only reads: on SQLite it begins without taking the write lock.
READ_ONLY = "gateway_read_only"
# Execution option of a connection whose statements each run on their own (see `autocommit_session`).
STATEMENT_BY_STATEMENT = "gateway_statement_by_statement"


async def begin_read_only(session: AsyncSession) -> None:
    """Begin the session's transaction as read-only; call before the session's first statement."""
    await session.connection(execution_options={READ_ONLY: True})


@asynccontextmanager
async def autocommit_session(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own, for requests that read, or write one row.

    No BEGIN and no COMMIT round trip on PostgreSQL, nothing to roll back when the connection goes back to the
    pool, and never SQLite's write lock for a read. So the statements of one request may see different snapshots:
    use it only where each answer is one query (plus the caller's check), or one write whose outcome stands alone
    (a webhook delivery recorded once). A change left in the session at the end (an API token's last use) is
    flushed and so committed.
    """
    async with factory() as session:
        await begin_statement_by_statement(session)
        yield session
        await commit_left_changes(session)


async def begin_statement_by_statement(session: AsyncSession) -> None:
    """Make the session's statements each commit on their own (see `autocommit_session`); call before its first."""
    options: dict[str, Any] = {STATEMENT_BY_STATEMENT: True}
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    await session.connection(execution_options=options)


async def commit_left_changes(session: AsyncSession) -> None:
    """Commit what a statement-by-statement session still holds (flushing it is its commit)."""
    if session.new or session.dirty or session.deleted:
        await session.commit()


# Session.info key of the callable that receives what a committed transaction recorded (see `commit_events`).
ON_COMMIT = "gateway_on_commit"


class GatewaySession(Session):
    """The sync session class behind every `AsyncSession` of the gateway; `commit_events` listens on it."""


def create_session_factory(
    engine: AsyncEngine, *, on_commit: Callable[[Any], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    info = {ON_COMMIT: on_commit} if on_commit else {}
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=GatewaySession, info=info)


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1``; raise `DatabaseUnavailable` with a one-line reason when it fails."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot reach the database at {where}: {reason_of(exc)}") from None
