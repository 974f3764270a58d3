"""A request that fails while its dependencies are resolved leaves no database session open (Litestar skips the
cleanup of generator dependencies that had started when a later one raises)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.pool import Pool

from tests.api.conftest import AppClientFactory
from tests.api.world import World


@pytest.fixture
def api_database_url(database_url: str) -> str:
    return database_url


async def all_returned(pool: Pool) -> bool:
    """Whether every connection is back in the pool within 5 s (the app's startup sweep may hold one briefly)."""
    for _ in range(100):
        if pool.checkedout() == 0:  # type: ignore[attr-defined]
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_request_refused_while_its_dependencies_resolve_returns_its_connections(
    make_client: AppClientFactory, world: World
) -> None:
    refused = [
        {"first_day": "2026-11-30", "last_day": "2026-11-01"},  # the filter dependency refuses: 422
        {"first_day": "2026-11-01", "last_day": "30.11.2026"},  # the filter's parameters fail validation: 400
    ]
    async with make_client(world.database_url) as client:
        pool = client.app.state.engine.sync_engine.pool
        assert await all_returned(pool)
        for params in refused * 3:
            response = await client.get("/api/reports/time", params=params, headers=world.headers("admin"))
            assert response.status_code in (400, 422), response.text
            assert await all_returned(pool), params
        params = {"first_day": "2026-11-01", "last_day": "2026-11-30"}
        response = await client.get("/api/reports/time", params=params, headers=world.headers("admin"))
        assert response.status_code == 200, response.text
        assert await all_returned(pool)
