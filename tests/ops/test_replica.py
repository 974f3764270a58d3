"""Reports on a real streaming replica: a primary and a replica made by initdb / pg_basebackup -R / pg_ctl.

What the replica serves shows in what it has not replayed yet: with WAL replay paused, a report read there misses
a booking the primary already has.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY

from gateway.core import migrator
from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.conftest import service_missing
from tests.ops.pg_cluster import Cluster, streaming_pair, unavailable, wait_for_replay

NOVEMBER = {"first_day": "2026-11-01", "last_day": "2026-11-30"}


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[Cluster, Cluster]]:
    reason = unavailable()
    if reason is not None:
        service_missing("a streaming replica", "initdb/pg_basebackup", reason)
    with streaming_pair() as pair:
        yield pair


@pytest.fixture
def api_database_url(clusters: tuple[Cluster, Cluster]) -> str:
    """A migrated database of this test's own on the primary (the world is built there)."""
    primary, _ = clusters
    name = f"gw_{uuid.uuid4().hex[:10]}"
    with primary.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = primary.url(name)
    migrator.upgrade(url)
    return url


def replica_of(clusters: tuple[Cluster, Cluster], world: World) -> str:
    primary, replica = clusters
    wait_for_replay(primary, replica)
    return replica.url(world.database_url.rsplit("/", 1)[1])


async def minutes(client: AsyncTestClient[Litestar], world: World, username: str) -> int:
    response = await client.get("/api/reports/time", headers=world.headers(username), params=NOVEMBER)
    assert response.status_code == 200, response.text
    total: int = response.json()["totals"]["minutes"]
    return total


async def book(client: AsyncTestClient[Litestar], world: World, start: str, end: str) -> dict[str, Any]:
    response = await client.post(
        "/api/entries",
        headers=world.headers("dev_a"),
        json={
            "day": "2026-11-24",
            "start": start,
            "end": end,
            "project_id": world.id("projects", "Alpha Web"),
            "activity_id": world.id("activities", "Meeting"),
        },
    )
    assert response.status_code == 201, response.text
    booked: dict[str, Any] = response.json()
    return booked


def fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("gateway_replica_fallbacks_total", {"reason": reason}) or 0.0


async def test_reports_come_from_the_replica_and_a_callers_own_booking_from_the_primary(
    world: World, clusters: tuple[Cluster, Cluster], make_client: AppClientFactory
) -> None:
    primary, replica = clusters
    replica_url = replica_of(clusters, world)
    async with make_client(world.database_url, replica_url=replica_url, replica_max_lag_seconds=3600) as client:
        admin_before = await minutes(client, world, "admin")
        own_before = await minutes(client, world, "dev_a")
        with replica.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        try:
            entry = await book(client, world, "13:00", "14:00")
            # The admin's report is read on the replica, which has not replayed the booking.
            assert await minutes(client, world, "admin") == admin_before
            # dev_a just booked: their entry list and their own report read the primary and show it.
            day = {"first_day": "2026-11-24", "last_day": "2026-11-24"}
            listed = await client.get("/api/entries", headers=world.headers("dev_a"), params=day)
            assert listed.status_code == 200, listed.text
            assert entry["id"] in [row["id"] for row in listed.json()["items"]]
            assert await minutes(client, world, "dev_a") == own_before + 60
            with replica.connect() as conn:
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        finally:
            with replica.connect() as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
        wait_for_replay(primary, replica)
        assert await minutes(client, world, "admin") == admin_before + 60


async def test_a_lagging_replica_sends_reports_to_the_primary_and_says_so(
    world: World, clusters: tuple[Cluster, Cluster], make_client: AppClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    primary, replica = clusters
    replica_url = replica_of(clusters, world)
    async with make_client(world.database_url, replica_url=replica_url, replica_max_lag_seconds=1) as client:
        admin_before = await minutes(client, world, "admin")
        with replica.connect() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        try:
            await book(client, world, "15:00", "16:00")
            with primary.connect() as conn:
                conn.execute("SELECT pg_sleep(2)")  # the replica is now more than a second behind
            lagging = fallbacks("lagging")
            with caplog.at_level(logging.WARNING, logger="gateway.replica"):
                assert await minutes(client, world, "admin") == admin_before + 60
            assert fallbacks("lagging") == lagging + 1
            assert "reports read from the primary" in caplog.text
            assert "lagging" in caplog.text
        finally:
            with replica.connect() as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
        wait_for_replay(primary, replica)


async def test_a_stopped_replica_sends_reports_and_exports_to_the_primary(
    world: World, clusters: tuple[Cluster, Cluster], make_client: AppClientFactory
) -> None:
    primary, replica = clusters
    replica_url = replica_of(clusters, world)
    async with make_client(world.database_url, replica_url=replica_url) as client:
        admin_before = await minutes(client, world, "admin")
        replica.stop()
        try:
            unreachable = fallbacks("unreachable")
            assert await minutes(client, world, "admin") == admin_before
            exported = await client.get("/api/reports/time.csv", headers=world.headers("admin"), params=NOVEMBER)
            assert exported.status_code == 200, exported.text
            assert fallbacks("unreachable") >= unreachable + 2
            ready = await client.get("/health/ready")
            assert ready.status_code == 200  # without the replica reports still work: degraded, not failing
            assert ready.json()["checks"]["replica"]["status"] == "degraded"
        finally:
            replica.start()
        wait_for_replay(primary, replica)
