"""The sync engine at scale: concurrent push lanes, bounded pulls that chain, leases, deferral bookkeeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from gateway.core.auth.caller import Caller
from gateway.core.enums import SyncState
from gateway.core.models import Link, SyncRun
from gateway.core.sync.deferred import Deferred, RunAgain
from gateway.core.sync.errors import LeaseLost
from gateway.core.sync.jobs import run_sync_link
from gateway.core.sync.status import my_sync_status
from tests.core.sync.conftest import SyncEnv


async def test_a_transient_failure_of_the_token_endpoint_defers_the_run_and_records_why(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    async with sync_env.session() as session:
        await session.execute(
            update(Link).where(Link.id == sync_env.link_id).values(token_expires_at=datetime.now(UTC))
        )
        await session.commit()
    sync_env.fake.fail_next_token(503)

    with pytest.raises(Deferred):
        await sync_env.sync()

    link = await sync_env.link()
    assert (link.last_error or "").startswith("deferred: refresh the link's token: ")
    assert "(503)" in (link.last_error or "")
    assert link.next_sync_at is not None
    assert not link.needs_reconnect  # a 503 is not a refusal of the grant
    async with sync_env.session() as session:
        run = await session.scalar(select(SyncRun))
        assert run is not None
        assert (run.error or "").startswith("deferred:")
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.PENDING

    await sync_env.sync()  # the retry refreshes and pushes
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.SYNCED
    link = await sync_env.link()
    assert (link.last_error, link.next_sync_at) == (None, None)
    assert sync_env.fake.count("token:refresh_token") == 2


async def test_next_run_is_the_retry_of_a_deferred_run(sync_env: SyncEnv) -> None:
    await sync_env.book()
    sync_env.fake.fail_next(429, {"Retry-After": "120"})
    with pytest.raises(Deferred):
        await sync_env.sync()
    caller = Caller(user_id=sync_env.caller.user_id, username="ada", type=sync_env.caller.type)
    async with sync_env.session() as session:
        [status] = await my_sync_status(session, caller)
    assert not status.running
    assert status.next_run is not None
    assert status.next_run > datetime.now(UTC) + timedelta(seconds=100)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_pushes_to_different_tickets_overlap_and_one_tickets_stay_in_order(sync_env: SyncEnv) -> None:
    fake = sync_env.fake
    for key in ("TL-3", "TL-4"):
        fake.add_issue(key, key)
    booked = {
        ticket: [await sync_env.book(ticket=ticket, start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30") for n in range(3)]
        for ticket in ("TL-1", "TL-2", "TL-3", "TL-4")
    }
    fake.create_seconds = 0.3
    sync_env.deps.push_lanes = 8

    report = await sync_env.sync()

    assert report.created == 12
    assert fake.max_in_flight > 1  # different tickets at once …
    assert fake.max_in_flight_per_issue == 1  # … one ticket's one after another …
    order = {marker: n for n, marker in enumerate(fake.created_markers)}
    for entries in booked.values():  # … in the order they were booked
        positions = [order[str(entry.uuid)] for entry in entries]
        assert positions == sorted(positions)
    states = {entry.sync_state for entry in await sync_env.entries()}
    assert states == {SyncState.SYNCED}


async def test_a_run_that_lost_its_lease_stops_before_its_next_remote_write(sync_env: SyncEnv) -> None:
    entries = [await sync_env.book(start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30") for n in range(3)]
    sync_env.deps.lease_seconds = 8  # renewed every 2 s
    connector = sync_env.deps.runtime.registry.require("tasklog").connector
    original = connector.create_worklog

    async def create_then_lose_the_lease(self, credentials, draft):  # type: ignore[no-untyped-def]
        created = await original(self, credentials, draft)
        # Another runner takes the link (as after a stall longer than the lease) …
        async with sync_env.session() as session:
            await session.execute(
                update(Link)
                .where(Link.id == sync_env.link_id)
                .values(sync_lease_owner="someone else", sync_lease_until=datetime.now(UTC) + timedelta(minutes=5))
            )
            await session.commit()
        await asyncio.sleep(5)  # … and this run's next renewal finds out
        return created

    connector.create_worklog = create_then_lose_the_lease  # type: ignore[method-assign]
    try:
        with pytest.raises(LeaseLost):
            await sync_env.sync()
    finally:
        connector.create_worklog = original  # type: ignore[method-assign]

    assert len(sync_env.fake.created_markers) == 1  # no write after the lease was lost
    states = [(await sync_env.entry(entry.id)).sync_state for entry in entries]
    assert states.count(SyncState.PENDING) == 2
    link = await sync_env.link()
    assert link.sync_lease_owner == "someone else"  # the lost lease is not released over the new holder's head


async def test_a_long_pull_is_a_chain_of_bounded_runs(sync_env: SyncEnv) -> None:
    for n in range(7):
        sync_env.fake.add_worklog("u1", "TL-2", "2026-11-25", 15, f"remote {n}", start=f"{8 + n:02d}:00")
    sync_env.deps.pull_seconds = 0  # one page (of two) per run
    runs = 0
    while True:
        runs += 1
        try:
            await run_sync_link(sync_env.deps, sync_env.link_id)
            break
        except RunAgain:
            link = await sync_env.link()
            assert link.sync_page is not None  # each run ends with its position committed
    assert runs == 4
    entries = await sync_env.entries()
    assert sorted(entry.description for entry in entries) == [f"remote {n}" for n in range(7)]
    assert {entry.sync_state for entry in entries} == {SyncState.SYNCED}
    link = await sync_env.link()
    assert (link.sync_page, link.last_error) == (None, None)
