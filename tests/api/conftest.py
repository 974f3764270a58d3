from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.api.app import create_app
from gateway.core.db import create_engine, create_session_factory
from gateway.core.plugins import ConnectorRegistry
from gateway.core.settings import Settings
from gateway.core.vault import KeyRing
from tests.api.world import World, build_world

AppClientFactory = Callable[..., AsyncTestClient[Litestar]]


@pytest.fixture
async def make_client(key_ring: KeyRing) -> AsyncIterator[AppClientFactory]:
    """Build a test client for an app on the given settings; every client is closed after the test."""
    clients: list[AsyncTestClient[Litestar]] = []

    def make(
        database_url: str, redis_url: str | None = None, registry: ConnectorRegistry | None = None, **settings: object
    ) -> AsyncTestClient[Litestar]:
        config = Settings(database_url=database_url, redis_url=redis_url, key_ring=key_ring, **settings)  # type: ignore[arg-type]
        client = AsyncTestClient(app=create_app(config, registry=registry))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)


@pytest.fixture
def api_database_url(pg_url: str) -> str:
    """The database API tests run on: PostgreSQL; a module may override this to run on SQLite as well."""
    return pg_url


@pytest.fixture
async def world(api_database_url: str) -> World:
    engine = create_engine(api_database_url)
    async with create_session_factory(engine)() as session:
        built = await build_world(session)
    await engine.dispose()
    built.database_url = api_database_url
    return built


@pytest.fixture
async def client(make_client: AppClientFactory, api_database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of an app on the test database (use `world.headers(name)` to authenticate)."""
    async with make_client(api_database_url) as client:
        yield client
