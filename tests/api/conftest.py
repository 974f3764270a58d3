from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.api.app import create_app
from gateway.core.settings import Settings
from gateway.core.vault import KeyRing

AppClientFactory = Callable[..., AsyncTestClient[Litestar]]


@pytest.fixture
async def make_client(key_ring: KeyRing) -> AsyncIterator[AppClientFactory]:
    """Build a test client for an app on the given settings; every client is closed after the test."""
    clients: list[AsyncTestClient[Litestar]] = []

    def make(database_url: str, redis_url: str | None = None) -> AsyncTestClient[Litestar]:
        settings = Settings(database_url=database_url, redis_url=redis_url, key_ring=key_ring)
        client = AsyncTestClient(app=create_app(settings))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)
