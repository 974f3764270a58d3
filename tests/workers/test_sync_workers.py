"""Real arq workers (separate processes) syncing against the fake Tasklog, on PostgreSQL and Redis.

Each worker runs `gateway worker` with a short job timeout, so a lease left by a killed worker lapses quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import select, update

from gateway.core.db import create_engine, create_session_factory
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.enums import SyncState
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Entry, Link, Ticket, TicketSystem
from gateway.core.plugins import build_registry
from gateway.core.sync.coordination import RedisCoordinator
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.engine import SyncDeps, sync_link
from gateway.core.sync.jobs import SYNC_LINK, job_id
from gateway.core.sync.runtime import arq_redis
from gateway.core.vault import KeyRing
from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.support import Workers, clean_environment, eventually, free_port, run_in_session

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)

JOB_TIMEOUT = 4  # seconds; a dead worker's lease lapses after twice that


@pytest.fixture
def workers(world: World, redis_url: str, key_line: str, tmp_path: Path) -> Iterator[Workers]:
    env = clean_environment(
        DATABASE_URL=world.database_url,
        REDIS_URL=redis_url,
        GATEWAY_SECRET_KEYS=key_line,
        GATEWAY_JOB_TIMEOUT=str(JOB_TIMEOUT),
        GATEWAY_LOG_FORMAT="json",
    )
    runner = Workers(env, tmp_path)
    yield runner
    runner.stop_all()


@pytest.fixture
async def arq(redis_url: str) -> AsyncIterator[ArqRedis]:
    redis = arq_redis(redis_url)
    yield redis
    await redis.aclose()


async def book(world: World, *, start: str = "09:00", end: str = "10:00", ticket: str = "TL-1") -> Entry:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        entry = await create_entry(
            session,
            world.caller("dev_a"),
            EntryCreate(
                day=date(2026, 11, 24),
                start=start,
                end=end,
                project_id=world.id("projects", "Alpha Web"),
                activity_id=world.id("activities", "Development"),
                ticket=ticket,
            ),
        )
        await session.commit()
    await engine.dispose()
    return entry


async def entry_states(world: World) -> dict[int, SyncState | None]:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        rows = (await session.execute(select(Entry.id, Entry.sync_state))).all()
    await engine.dispose()
    return {row[0]: row[1] for row in rows}


async def link_of(world: World) -> Link:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        link = await session.scalar(select(Link).where(Link.user_id == world.users["dev_a"].id))
    await engine.dispose()
    assert link is not None
    return link


async def enqueue_sync(arq: ArqRedis, link_id: int) -> None:
    await arq.enqueue_job(SYNC_LINK, link_id, _job_id=job_id(SYNC_LINK, link_id))


async def test_a_worker_killed_after_the_remote_create_leaves_exactly_one_worklog(
    world: World, tasklog: FakeTasklog, linked: int, workers: Workers, arq: ArqRedis
) -> None:
    link = await link_of(world)
    first = workers.start()
    entry = await book(world)
    tasklog.stall_next_create_seconds = 60  # the worklog is created, the answer does not come back
    await enqueue_sync(arq, link.id)
    await eventually(lambda: tasklog.created_markers, within=30, what="the remote create", logs=workers.logs)

    os.kill(first.pid, signal.SIGKILL)  # after the remote create, before the worker could commit its outcome
    first.wait()
    assert (await entry_states(world))[entry.id] is SyncState.PENDING

    workers.start()

    async def synced() -> bool:
        return (await entry_states(world))[entry.id] is SyncState.SYNCED

    await eventually(synced, within=60, what="the restarted worker's sync", logs=workers.logs)
    with tasklog.lock:
        assert len(tasklog.worklogs) == 1
        assert tasklog.created_markers == [str(entry.uuid)]


async def test_two_workers_and_the_inline_runner_push_each_entry_once(
    world: World, tasklog: FakeTasklog, linked: int, workers: Workers, arq: ArqRedis, key_ring: KeyRing
) -> None:
    link = await link_of(world)
    entries = [await book(world, start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30") for n in range(6)]
    workers.start()
    workers.start()
    engine = create_engine(world.database_url)
    async with httpx.AsyncClient(timeout=10) as http:
        inline = SyncDeps(
            session_factory=create_session_factory(engine),
            runtime=ConnectorRuntime(registry=build_registry(), key_ring=key_ring, http=http, public_url="http://x"),
            coordinator=RedisCoordinator(arq, requests_per_second=50, lock_seconds=JOB_TIMEOUT),
            lease_seconds=JOB_TIMEOUT * 2,
        )

        async def inline_sync() -> None:
            with contextlib.suppress(Deferred):
                await sync_link(inline, link.id)

        # Everyone at once: the jobs for the workers (several enqueues collapse into one job id) and inline runs.
        await asyncio.gather(*(enqueue_sync(arq, link.id) for _ in range(3)), *(inline_sync() for _ in range(3)))

        async def all_synced() -> bool:
            states = await entry_states(world)
            return all(states[e.id] is SyncState.SYNCED for e in entries)

        for _ in range(3):  # the runs that found the link busy, repeated
            await inline_sync()
            await enqueue_sync(arq, link.id)
        await eventually(all_synced, within=60, what="every entry synced", logs=workers.logs)
    await engine.dispose()
    with tasklog.lock:
        assert sorted(tasklog.created_markers) == sorted(str(e.uuid) for e in entries)
        assert len(tasklog.worklogs) == 6


async def test_a_rate_limited_job_is_deferred_by_retry_after_then_succeeds(
    world: World, tasklog: FakeTasklog, linked: int, workers: Workers, arq: ArqRedis
) -> None:
    link = await link_of(world)
    entry = await book(world)
    tasklog.fail_next(429, {"Retry-After": "3"})
    workers.start()
    await enqueue_sync(arq, link.id)

    async def synced() -> bool:
        return (await entry_states(world))[entry.id] is SyncState.SYNCED

    await eventually(synced, within=60, what="the deferred sync", logs=workers.logs)
    with tasklog.lock:
        refused = next(t for t, _what, status in tasklog.request_log if status == 429)
        created = next(t for t, what, status in tasklog.request_log if what == "create worklog" and status == 200)
    assert created - refused >= 3


async def test_a_storm_of_server_errors_backs_off_and_loses_nothing(
    world: World, tasklog: FakeTasklog, linked: int, workers: Workers, arq: ArqRedis
) -> None:
    link = await link_of(world)
    entry = await book(world)
    for _ in range(3):
        tasklog.fail_next(503)
    workers.start()
    await enqueue_sync(arq, link.id)

    async def failing_visibly() -> bool:
        return "failed (503)" in ((await link_of(world)).last_error or "")

    await eventually(failing_visibly, within=30, what="the error shown on the link", logs=workers.logs)
    assert (await entry_states(world))[entry.id] is SyncState.PENDING

    async def synced() -> bool:
        return (await entry_states(world))[entry.id] is SyncState.SYNCED

    await eventually(synced, within=60, what="the sync after the storm", logs=workers.logs)
    with tasklog.lock:
        attempts = [t for t, what, _status in tasklog.request_log if what == "changes"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)][:3]
    assert all(gap >= 0.9 for gap in gaps), gaps  # backoff, not a hammering loop
    assert (await link_of(world)).last_error is None


# --- Redis down while the API accepts entries -------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own, so it can be stopped without disturbing the other tests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port())
    yield server
    server.stop()


async def test_entries_booked_while_redis_is_down_are_synced_once_it_is_back(
    world: World,
    tasklog: FakeTasklog,
    linked: int,
    private_redis: PrivateRedis,
    make_client: AppClientFactory,
    key_line: str,
    tmp_path: Path,
) -> None:
    private_redis.start()
    async with make_client(world.database_url, redis_url=private_redis.url) as client:
        private_redis.stop()
        body = {
            "day": "2026-11-24",
            "start": "09:00",
            "end": "10:00",
            "project_id": world.id("projects", "Alpha Web"),
            "activity_id": world.id("activities", "Development"),
            "ticket": "TL-1",
        }
        response = await client.post("/api/entries", json=body, headers=world.headers("dev_a"))
        assert response.status_code == 201, response.text
        entry = response.json()
        assert entry["sync_state"] == "pending"
        await asyncio.sleep(0.5)  # the failed enqueue after the commit is only logged
        ready = await client.get("/health/ready")
        assert ready.status_code == 503  # Redis is named as the problem
        assert ready.json()["checks"]["redis"]["status"] == "fail"
    assert (await link_of(world)).sync_requested_at is not None

    private_redis.start()
    env = clean_environment(
        DATABASE_URL=world.database_url,
        REDIS_URL=private_redis.url,
        GATEWAY_SECRET_KEYS=key_line,
        GATEWAY_JOB_TIMEOUT=str(JOB_TIMEOUT),
    )
    runner = Workers(env, tmp_path)
    runner.start()  # its start-up sweep finds the pending entry
    try:

        async def synced() -> bool:
            return (await entry_states(world))[entry["id"]] is SyncState.SYNCED

        await eventually(synced, within=60, what="the sync after Redis came back", logs=runner.logs)
    finally:
        runner.stop_all()
    with tasklog.lock:
        assert tasklog.created_markers == [entry["uuid"]]


async def test_the_workers_schedule_keeps_the_ticket_cache_fresh(
    world: World, tasklog: FakeTasklog, linked: int, workers: Workers
) -> None:
    """Tasklog lists changed tickets: the worker's sweep (at start-up, then every minute) reads them into the cache."""
    tasklog.edit_issue("TL-2", title="Invoices, renamed in Tasklog")
    never_read = update(TicketSystem).where(TicketSystem.id == linked).values(tickets_read_at=None)
    await run_in_session(world.database_url, lambda session: session.execute(never_read))  # due at the worker's start
    workers.start()

    async def cached() -> dict[str, str]:
        engine = create_engine(world.database_url)
        async with create_session_factory(engine)() as session:
            rows = await session.execute(select(Ticket.key, Ticket.summary).where(Ticket.ticket_system_id == linked))
            found = {key: summary for key, summary in rows.all()}
        await engine.dispose()
        return found

    async def renamed() -> bool:
        return (await cached()).get("TL-2") == "Invoices, renamed in Tasklog"

    await eventually(renamed, within=60, what="the ticket cache read by the worker", logs=workers.logs)
    assert set(await cached()) == {"TL-1", "TL-2"}
    assert tasklog.count("issues") >= 1


# --- Leases that follow the worker ------------------------------------------------------------------------------


@pytest.fixture
def patient_workers(world: World, redis_url: str, key_line: str, tmp_path: Path) -> Iterator[Workers]:
    """Workers whose jobs may run for two minutes: a run outlives its 20 s lease many times over."""
    env = clean_environment(
        DATABASE_URL=world.database_url,
        REDIS_URL=redis_url,
        GATEWAY_SECRET_KEYS=key_line,
        GATEWAY_JOB_TIMEOUT="120",
        GATEWAY_LOG_FORMAT="json",
    )
    runner = Workers(env, tmp_path)
    yield runner
    runner.stop_all()


async def test_a_killed_workers_link_is_picked_up_within_a_minute_and_never_while_it_still_runs(
    world: World, tasklog: FakeTasklog, linked: int, patient_workers: Workers, arq: ArqRedis
) -> None:
    link = await link_of(world)
    first = patient_workers.start()
    entries = [await book(world, start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30") for n in range(2)]
    tasklog.stall_next_create_seconds = 90  # the first create is made, its answer hangs: the run stays alive
    await enqueue_sync(arq, link.id)
    await eventually(lambda: tasklog.created_markers, within=30, what="the remote create", logs=patient_workers.logs)
    held = await link_of(world)
    assert held.sync_lease_owner is not None
    assert held.sync_lease_until is not None

    # A second worker is asked to sync the same link (under another job id, so arq runs it) while the first lives.
    patient_workers.start()
    await arq.enqueue_job(SYNC_LINK, link.id, _job_id="sync_link:while-running")

    async def renewed_past_the_first_lease() -> bool:
        now = await link_of(world)
        return now.sync_lease_until is not None and now.sync_lease_until > held.sync_lease_until + timedelta(seconds=25)

    # The heartbeat keeps the lease alive for longer than one lease length, and nobody takes the link meanwhile.
    await eventually(renewed_past_the_first_lease, within=60, what="the lease renewed", logs=patient_workers.logs)
    assert (await link_of(world)).sync_lease_owner == held.sync_lease_owner
    with tasklog.lock:
        assert len(tasklog.created_markers) == 1

    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = time.monotonic()

    async def all_synced() -> bool:
        states = await entry_states(world)
        return all(states[entry.id] is SyncState.SYNCED for entry in entries)

    await eventually(all_synced, within=60, what="the link picked up again", logs=patient_workers.logs)
    assert time.monotonic() - killed_at < 60
    with tasklog.lock:
        assert sorted(tasklog.created_markers) == sorted(str(entry.uuid) for entry in entries)
        assert len(tasklog.worklogs) == 2
