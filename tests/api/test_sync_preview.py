"""The sync preview through the API: what the next sync would do, with nothing written (jobs queue in Redis,
where no worker runs, so the sync happens only when the test asks for it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Link
from gateway.core.plugins import build_registry
from gateway.core.sync.coordination import LocalCoordinator
from gateway.core.sync.engine import SyncDeps, sync_link
from gateway.core.vault import KeyRing
from tests.api.conftest import AppClientFactory
from tests.api.world import World

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def queued(make_client: AppClientFactory, world: World, redis_url: str) -> AsyncIterator[Client]:
    async with make_client(world.database_url, redis_url=redis_url) as client:
        yield client


async def book(client: Client, world: World, **values: Any) -> dict[str, Any]:
    body = {
        "day": "2026-11-24", "start": "09:00", "end": "10:00", "project_id": world.id("projects", "Alpha Web"),
        "activity_id": world.id("activities", "Development"), "ticket": "TL-1", **values,
    }  # fmt: skip
    response = await client.post("/api/entries", json=body, headers=world.headers("dev_a"))
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def test_the_preview_lists_what_the_sync_then_does(
    queued: Client, world: World, tasklog: FakeTasklog, linked: int, key_ring: KeyRing
) -> None:
    first = await book(queued, world, description="One")
    second = await book(queued, world, start="10:00", end="11:00", ticket="TL-2")
    tasklog.add_worklog("u1", "TL-1", "2026-11-25", 30, "Made in Tasklog")

    path = f"/api/me/ticket-systems/{linked}/sync/preview"
    response = await queued.get(path, headers=world.headers("dev_a"))
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["skipped"] is None
    assert preview["counts"] == {
        "adopt": 0, "conflict": 0, "create": 2, "delete": 0, "import": 0, "mark_remote_deleted": 0, "park": 1,
        "take_remote": 0, "update": 0,
    }  # fmt: skip
    assert sorted((c["action"], c["entry_id"], c["ticket"], c["worklog_id"]) for c in preview["changes"]) == [
        ("create", first["id"], "TL-1", None),
        ("create", second["id"], "TL-2", None),
        ("park", None, "TL-1", next(iter(tasklog.worklogs))),
    ]
    # Tasklog's ticket system has no activity for imported worklogs: the preview says so.
    [parked] = [change for change in preview["changes"] if change["action"] == "park"]
    assert "import_activity_id" in parked["detail"]
    assert tasklog.created_markers == []
    entry = (await queued.get(f"/api/entries/{first['id']}", headers=world.headers("dev_a"))).json()
    assert entry["sync_state"] == "pending"

    # The sync that follows (run here, as a worker would) does what the preview said.
    engine = create_engine(world.database_url)
    async with httpx.AsyncClient(timeout=10) as http:
        runtime = ConnectorRuntime(registry=build_registry(), key_ring=key_ring, http=http, public_url="http://x")
        deps = SyncDeps(create_session_factory(engine), runtime, LocalCoordinator(100))
        report = await sync_link(deps, await link_id(world, linked))
    await engine.dispose()
    assert (report.created, report.unmapped, report.pushed) == (2, 1, 2)
    assert len(tasklog.created_markers) == 2


async def link_id(world: World, system_id: int) -> int:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        found = await session.scalar(select(Link.id).where(Link.ticket_system_id == system_id))
    await engine.dispose()
    assert found is not None
    return found


async def test_a_preview_needs_the_callers_own_link(queued: Client, world: World, linked: int) -> None:
    response = await queued.get(f"/api/me/ticket-systems/{linked}/sync/preview", headers=world.headers("user_a"))
    assert response.status_code == 404
    assert "no enabled link" in response.json()["detail"]


async def test_a_failing_tracker_answers_502_and_nothing_changes(
    queued: Client, world: World, tasklog: FakeTasklog, linked: int
) -> None:
    entry = await book(queued, world)
    tasklog.fail_next(500)
    response = await queued.get(f"/api/me/ticket-systems/{linked}/sync/preview", headers=world.headers("dev_a"))
    assert response.status_code == 502
    assert response.json()["detail"].startswith("could not read the tracker")
    after = (await queued.get(f"/api/entries/{entry['id']}", headers=world.headers("dev_a"))).json()
    assert (after["sync_state"], after["version"]) == ("pending", entry["version"])
