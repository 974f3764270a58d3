"""What several commands share: settings, logging, and running a coroutine against the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.core.db import create_engine, create_session_factory, ping
from gateway.core.logs import configure_logging
from gateway.core.migrator import ensure_schema_at_head
from gateway.core.settings import Settings, load_settings

T = TypeVar("T")


def settings_with_logging() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


@asynccontextmanager
async def reachable_engine(
    database_url: str, *, migrated: bool = True, prepared_statements: bool = True
) -> AsyncIterator[AsyncEngine]:
    """An engine that has answered, on a schema at head unless `migrated` is False; disposed afterwards."""
    engine = create_engine(database_url, prepared_statements=prepared_statements)
    try:
        await ping(engine)
        if migrated:
            await ensure_schema_at_head(engine)
        yield engine
    finally:
        await engine.dispose()


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one session on a migrated database and commit when it returns."""

    async def run() -> T:
        prepared = settings.db_prepared_statements
        async with (
            reachable_engine(settings.database_url, prepared_statements=prepared) as engine,
            create_session_factory(engine)() as session,
        ):
            result = await work(session)
            await session.commit()
            return result

    return asyncio.run(run())


def check_database(settings: Settings) -> None:
    """Fail fast, in one line, when the database is unreachable or not migrated."""

    async def run() -> None:
        async with reachable_engine(settings.database_url, prepared_statements=settings.db_prepared_statements):
            pass

    asyncio.run(run())
