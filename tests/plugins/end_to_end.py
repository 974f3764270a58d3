"""What the connectors' end-to-end tests share: the gateway under test, a real `gateway worker`, and API calls.

Each connector's conftest re-exports the fixtures (as it does the API tests' `world`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.support import Workers, clean_environment

Client = AsyncTestClient[Litestar]


@pytest.fixture
def worker(world: World, redis_url: str, key_line: str, tmp_path: Path) -> Iterator[Workers]:
    """A `gateway worker` process on the test database and Redis."""
    env = clean_environment(DATABASE_URL=world.database_url, REDIS_URL=redis_url, GATEWAY_SECRET_KEYS=key_line)
    runner = Workers(env, tmp_path)
    runner.start()
    yield runner
    runner.stop_all()


@pytest.fixture
async def gateway(make_client: AppClientFactory, world: World, redis_url: str) -> AsyncIterator[Client]:
    """The gateway's API, queueing its jobs in Redis for the worker."""
    async with make_client(world.database_url, redis_url=redis_url) as client:
        yield client


async def call(client: Client, world: World, who: str, method: str, path: str, body: Any = None) -> Any:
    """An API call as `who` that must succeed; its JSON answer."""
    response = await client.request(method, path, json=body, headers=world.headers(who))
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None
