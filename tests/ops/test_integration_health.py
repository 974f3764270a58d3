"""GET /health/integrations: per ticket system, whether its tracker answered the gateway's requests recently,
from what those requests saw — a probe never calls a tracker."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.core import integration_health
from tests.api.conftest import AppClientFactory
from tests.api.world import World

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


async def health_of(client: AsyncTestClient[Litestar], system_id: int) -> tuple[str, dict[str, Any]]:
    response = await client.get("/health/integrations")
    assert response.status_code == 200, response.text
    body = response.json()
    [row] = [row for row in body["ticket_systems"] if row["ticket_system_id"] == system_id]
    return body["status"], row


async def preview(client: AsyncTestClient[Litestar], world: World, system_id: int) -> None:
    """A sync preview reads the tracker (a request like any sync's)."""
    await client.get(f"/api/me/ticket-systems/{system_id}/sync/preview", headers=world.headers("dev_a"))


async def test_a_tracker_that_answered_is_ok_one_that_fails_is_failing_and_probes_call_no_tracker(
    world: World, tasklog: FakeTasklog, linked: int, make_client: AppClientFactory
) -> None:
    integration_health._RECORDER.local.clear()
    async with make_client(world.database_url) as client:
        status, row = await health_of(client, linked)
        assert (status, row["status"], row["connector"], row["last_answer_at"]) == ("ok", "unknown", "tasklog", None)

        await preview(client, world, linked)
        status, row = await health_of(client, linked)
        assert (status, row["status"]) == ("ok", "ok")
        assert row["last_answer_at"] is not None

        tasklog.fail_next(503)
        await preview(client, world, linked)
        status, row = await health_of(client, linked)
        assert (status, row["status"], row["last_failure_status"]) == ("degraded", "failing", 503)

        with tasklog.lock:
            requests = len(tasklog.request_log)
        for _ in range(5):
            await health_of(client, linked)
        with tasklog.lock:
            assert len(tasklog.request_log) == requests  # the probes asked no tracker

        await preview(client, world, linked)
        assert (await health_of(client, linked))[1]["status"] == "ok"


async def test_what_one_process_saw_is_shared_with_the_others_through_redis(
    world: World, tasklog: FakeTasklog, linked: int, make_client: AppClientFactory, redis_url: str
) -> None:
    integration_health._RECORDER.local.clear()
    async with make_client(world.database_url, redis_url=redis_url) as client:
        await preview(client, world, linked)
        for task in list(integration_health._RECORDER._sending):
            await task
        integration_health._RECORDER.local.clear()  # as if the probe came to another process
        assert (await health_of(client, linked))[1]["status"] == "ok"
