from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.core import db
from gateway.core.db import (
    async_url,
    autocommit_session,
    create_engine,
    create_session_factory,
    mask_url,
    parse_database_url,
    ping,
    sync_url,
)
from gateway.core.errors import ConfigError, DatabaseUnavailable


@pytest.mark.parametrize(
    ("given", "async_form", "sync_form"),
    [
        ("sqlite:///gateway.db", "sqlite+aiosqlite:///gateway.db", "sqlite+pysqlite:///gateway.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db", "sqlite+pysqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h:5433/db", "postgresql+psycopg://u@h:5433/db", "postgresql+psycopg://u@h:5433/db"),
    ],
)
def test_database_urls_map_to_the_async_and_sync_drivers(given: str, async_form: str, sync_form: str) -> None:
    assert async_url(given).render_as_string() == async_form
    assert sync_url(given).render_as_string() == sync_form


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("postgresql+asyncpg://u@h/db", "driver 'asyncpg'; use postgresql+psycopg://"),
        ("postgresql://u@h", "names no database"),
        ("oracle://u@h/db", "supports sqlite and postgresql"),
    ],
)
def test_unsupported_urls_are_refused(given: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_database_url(given)


def test_passwords_are_masked_even_in_urls_that_do_not_parse() -> None:
    assert mask_url("postgresql://app:hunter2@db:port/x") == "postgresql://app:***@db:port/x"
    with pytest.raises(ConfigError) as caught:
        parse_database_url("postgresql://app:hunter2@db:port/x")
    assert "hunter2" not in str(caught.value)


async def test_sqlite_connections_enforce_foreign_keys(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
    await engine.dispose()


async def test_ping_reports_an_unreachable_database_in_one_line_without_password() -> None:
    engine: AsyncEngine = create_engine("postgresql+psycopg://app:hunter2@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseUnavailable) as caught:
        await ping(engine)
    await engine.dispose()
    message = str(caught.value)
    assert message.startswith("cannot reach the database at postgresql+psycopg://app:***@127.0.0.1:1/nowhere")
    assert "hunter2" not in message
    assert "\n" not in message


async def test_an_autocommit_session_runs_each_statement_on_its_own_on_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    factory = create_session_factory(engine)
    async with autocommit_session(factory) as session:
        await session.execute(text("SELECT 1"))
        # Inside a transaction now() is its start, earlier than the statement's own time.
        assert await session.scalar(text("SELECT now() = statement_timestamp()")) is True
    async with factory() as session:
        await session.execute(text("SELECT 1"))
        assert await session.scalar(text("SELECT now() = statement_timestamp()")) is False
    await engine.dispose()


async def test_an_autocommit_session_commits_a_write_made_on_the_way(sqlite_url: str, pg_url: str) -> None:
    for url in (sqlite_url, pg_url):
        engine = create_engine(url)
        factory = create_session_factory(engine)
        async with autocommit_session(factory) as session:
            await session.execute(text("INSERT INTO holidays (day, name) VALUES ('2026-12-25', 'Christmas')"))
        async with factory() as session:
            assert await session.scalar(text("SELECT name FROM holidays")) == "Christmas"
        await engine.dispose()


async def test_a_pooled_connection_that_died_while_idle_is_replaced_unseen(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(pg_url)
    async with engine.connect() as connection:
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    killer = create_engine(pg_url)
    async with killer.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
    # A pinged connection is handed out idle: a session can still choose autocommit on it.
    async with autocommit_session(create_session_factory(engine)) as session:
        assert await session.scalar(text("SELECT now() = statement_timestamp()")) is True
    await engine.dispose()
