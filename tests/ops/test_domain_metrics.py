"""The domain metrics move where the events happen: a booking, a sync with a refreshed token, webhooks."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link, TicketSystem
from gateway.core.secrets_at_rest import seal_system_secrets
from gateway.core.vault import KeyRing
from tests.api.conftest import AppClientFactory
from tests.api.world import World

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str, line_start: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(line.rsplit(" ", 1)[1])


async def test_a_booking_and_its_sync_move_the_domain_metrics(
    world: World, tasklog: FakeTasklog, linked: int, make_client: AppClientFactory
) -> None:
    created = sample("gateway_entries_created_total", destination="tracker")
    runs = sample("gateway_sync_runs_total", connector="tasklog", outcome="ok")
    pushed = sample("gateway_sync_worklogs_total", connector="tasklog", result="pushed")
    refreshed = sample("gateway_token_refreshes_total", connector="tasklog", outcome="ok")
    unauthorised = sample("gateway_tracker_requests_total", connector="tasklog", status="401")
    tasklog.expire_access_tokens()  # the sync meets a 401 and refreshes once
    async with make_client(world.database_url) as client:
        booked = await client.post(
            "/api/entries",
            headers=world.headers("dev_a"),
            json={
                "day": "2026-11-24",
                "start": "09:00",
                "end": "10:00",
                "project_id": world.id("projects", "Alpha Web"),
                "activity_id": world.id("activities", "Development"),
                "ticket": "TL-1",
            },
        )
        assert booked.status_code == 201, booked.text
        assert sample("gateway_entries_created_total", destination="tracker") == created + 1
        # The in-process runner pushes it (no Redis); wait for the run to be recorded.
        deadline = time.monotonic() + 60
        while sample("gateway_sync_runs_total", connector="tasklog", outcome="ok") == runs:
            assert time.monotonic() < deadline, "no sync run was counted"
            await asyncio.sleep(0.1)
        text = (await client.get("/metrics")).text
    assert sample("gateway_sync_worklogs_total", connector="tasklog", result="pushed") == pushed + 1
    assert sample("gateway_token_refreshes_total", connector="tasklog", outcome="ok") == refreshed + 1
    assert sample("gateway_tracker_requests_total", connector="tasklog", status="401") >= unauthorised + 1
    assert sample("gateway_sync_run_duration_seconds_count", connector="tasklog", outcome="ok") >= 1
    assert 'gateway_entries_pending{connector="tasklog"}' not in text  # nothing waits any more


async def test_webhook_deliveries_are_counted_by_outcome(
    world: World, tasklog: FakeTasklog, linked: int, make_client: AppClientFactory, key_ring: KeyRing
) -> None:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = await session.scalar(select(TicketSystem).where(TicketSystem.id == linked))
        assert system is not None
        secrets = {"client_secret": tasklog.client_secret, "webhook_secret": tasklog.webhook_secret}
        system.secrets = seal_system_secrets(secrets, key_ring)
        await session.commit()
    await engine.dispose()
    outcomes = ("accepted", "duplicate", "refused")
    before = {o: sample("gateway_webhook_deliveries_total", connector="tasklog", outcome=o) for o in outcomes}
    async with make_client(world.database_url) as client:
        headers, body = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"], delivery_id="delivery-1")
        for _ in range(2):
            assert (await client.post(f"/api/webhooks/{linked}", headers=headers, content=body)).status_code == 202
        headers, body = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"], secret="not the secret")
        assert (await client.post(f"/api/webhooks/{linked}", headers=headers, content=body)).status_code == 401
    after = {o: sample("gateway_webhook_deliveries_total", connector="tasklog", outcome=o) for o in outcomes}
    assert {o: after[o] - before[o] for o in outcomes} == {"accepted": 1, "duplicate": 1, "refused": 1}


async def test_pending_entries_and_expiring_tokens_are_read_at_scrape_time(
    world: World, tasklog: FakeTasklog, linked: int, make_client: AppClientFactory
) -> None:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        link = await session.scalar(select(Link).where(Link.ticket_system_id == linked))
        assert link is not None
        link.needs_reconnect = True  # nothing syncs it: a booking stays pending
        await session.commit()
    await engine.dispose()
    async with make_client(world.database_url) as client:
        booked = await client.post(
            "/api/entries",
            headers=world.headers("dev_a"),
            json={
                "day": "2026-11-24",
                "start": "11:00",
                "end": "12:00",
                "project_id": world.id("projects", "Alpha Web"),
                "activity_id": world.id("activities", "Development"),
                "ticket": "TL-1",
            },
        )
        assert booked.status_code == 201, booked.text
        text = (await client.get("/metrics")).text
    assert scraped(text, 'gateway_entries_pending{connector="tasklog"}') == 1
    assert scraped(text, 'gateway_entries_pending_oldest_age_seconds{connector="tasklog"}') >= 0
    assert scraped(text, 'gateway_links_reconnect_needed{connector="tasklog"}') == 1
    assert 'gateway_db_index_scans_total{index="idx_entries_user_day"}' in text
