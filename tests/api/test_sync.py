"""Booking through the API lands in the tracker: the in-process runner (no Redis), sync status and conflicts."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.models import SyncRun
from gateway.core.sync.jobs import InlineQueue
from gateway.core.vault import KeyRing
from tests.api.world import World
from tests.support import Run

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


Client = AsyncTestClient[Litestar]


async def entry_when(client: Client, world: World, entry_id: int, state: str) -> dict[str, Any]:
    """The entry once the in-process runner (in the app's own event loop) has brought it to `state`."""
    for _ in range(200):
        entry: dict[str, Any] = (await client.get(f"/api/entries/{entry_id}", headers=world.headers("dev_a"))).json()
        if entry["sync_state"] == state:
            return entry
        await asyncio.sleep(0.05)
    raise AssertionError(f"entry {entry_id} did not become {state}: {entry}")


async def book(client: Client, world: World, **values: Any) -> dict[str, Any]:
    body = {
        "day": "2026-11-24",
        "start": "09:00",
        "end": "10:00",
        "project_id": world.id("projects", "Alpha Web"),
        "activity_id": world.id("activities", "Development"),
        "ticket": "TL-1",
        **values,
    }
    response = await client.post("/api/entries", json=body, headers=world.headers("dev_a"))
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def test_a_booking_reaches_the_tracker_without_redis(
    client: Client, world: World, tasklog: FakeTasklog, linked: int
) -> None:
    assert isinstance(client.app.state.queue, InlineQueue)
    entry = await book(client, world, description="Booked through the API")
    assert entry["sync_state"] == "pending"  # committed before any remote call
    synced = await entry_when(client, world, entry["id"], "synced")

    with tasklog.lock:
        [remote] = tasklog.worklogs.values()
    assert (remote["marker"], remote["note"], remote["minutes"]) == (entry["uuid"], "Booked through the API", 60)
    assert synced["worklog_id"] == remote["id"]

    # The entry is settled before its run records its counts: wait for every run to have finished. The app's
    # start-up sweep may sync the new link too, so the push can fall in either of two runs.
    engine = create_engine(world.database_url)
    for _ in range(200):
        async with create_session_factory(engine)() as session:
            open_runs = await session.scalar(select(func.count()).where(SyncRun.finished_at.is_(None)))
            pushed = await session.scalar(select(func.sum(SyncRun.pushed)))
        if not open_runs:
            break
        await asyncio.sleep(0.05)
    await engine.dispose()
    assert pushed == 1
    [status] = (await client.get("/api/me/sync", headers=world.headers("dev_a"))).json()
    assert status["ticket_system"] == "Tasklog"
    assert status["last_run"]["duration_seconds"] >= 0
    assert (status["pending"], status["failed"], status["conflicts"], status["last_error"]) == (0, 0, 0, None)


async def test_sync_now_pulls_what_changed_in_the_tracker(
    client: Client, world: World, tasklog: FakeTasklog, linked: int
) -> None:
    entry = await book(client, world)
    await entry_when(client, world, entry["id"], "synced")
    tasklog.edit_worklog(next(iter(tasklog.worklogs)), minutes=15)
    response = await client.post(f"/api/me/ticket-systems/{linked}/sync", headers=world.headers("dev_a"))
    assert response.status_code == 202
    for _ in range(200):
        pulled = (await client.get(f"/api/entries/{entry['id']}", headers=world.headers("dev_a"))).json()
        if pulled["duration"] == 15:
            break
        await asyncio.sleep(0.05)
    assert (pulled["duration"], pulled["end"], pulled["sync_state"]) == (15, "09:15", "synced")


async def test_conflicts_are_listed_and_settled(
    client: Client, world: World, tasklog: FakeTasklog, linked: int
) -> None:
    entry = await book(client, world, description="Original")
    await entry_when(client, world, entry["id"], "synced")
    tasklog.edit_worklog(next(iter(tasklog.worklogs)), note="Theirs")
    # The user edits the same field before the next sync: both sides changed the description.
    edited = await client.patch(
        f"/api/entries/{entry['id']}", json={"description": "Mine", "version": 1}, headers=world.headers("dev_a")
    )
    assert edited.status_code == 200, edited.text
    await entry_when(client, world, entry["id"], "conflict")
    with tasklog.lock:
        assert next(iter(tasklog.worklogs.values()))["note"] == "Theirs"  # not overwritten

    listed = (await client.get("/api/me/sync/conflicts", headers=world.headers("dev_a"))).json()
    assert [(c["entry_id"], c["local"]["description"], c["remote"]["description"]) for c in listed] == [
        (entry["id"], "Mine", "Theirs")
    ]
    assert (await client.get("/api/me/sync/conflicts", headers=world.headers("dev_b"))).json() == []

    kept = await client.post(
        f"/api/me/sync/conflicts/{entry['id']}", json={"keep": "remote"}, headers=world.headers("dev_a")
    )
    assert kept.status_code == 200, kept.text
    assert (kept.json()["description"], kept.json()["sync_state"]) == ("Theirs", "synced")
    again = await client.post(
        f"/api/me/sync/conflicts/{entry['id']}", json={"keep": "local"}, headers=world.headers("dev_a")
    )
    assert again.status_code == 404


async def test_only_an_admin_sees_everyones_sync(client: Client, world: World, linked: int) -> None:
    assert (await client.get("/api/admin/sync", headers=world.headers("pl_a"))).status_code == 403
    everyone = (await client.get("/api/admin/sync", headers=world.headers("admin"))).json()
    assert [(s["user"], s["ticket_system"]) for s in everyone] == [("dev_a", "Tasklog")]


async def test_the_sync_command_runs_in_the_foreground(
    run_gateway: Run, world: World, tasklog: FakeTasklog, linked: int, key_ring: KeyRing, key_line: str
) -> None:
    await book_directly(world)
    result = await asyncio.to_thread(
        run_gateway, "sync", "--user", "dev_a", DATABASE_URL=world.database_url, GATEWAY_SECRET_KEYS=key_line
    )
    assert result.returncode == 0, result.stderr
    assert "synced" in result.stdout
    assert len(tasklog.worklogs) == 1
    wrong = await asyncio.to_thread(
        run_gateway, "sync", "--user", "nobody", DATABASE_URL=world.database_url, GATEWAY_SECRET_KEYS=key_line
    )
    assert wrong.returncode == 1
    assert "nobody has no enabled, connected link" in wrong.stderr


async def test_a_system_that_does_not_book_time_says_so_everywhere(
    run_gateway: Run, client: Client, world: World, tasklog: FakeTasklog, linked: int, key_line: str
) -> None:
    admin = world.headers("admin")
    changed = await client.patch(f"/api/ticket-systems/{linked}", json={"book_time": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    entry = await book(client, world)
    assert entry["sync_state"] is None  # nothing to push: the entry is not waiting for the tracker

    [link] = (await client.get("/api/me/ticket-systems", headers=world.headers("dev_a"))).json()
    assert link["book_time"] is False
    [status] = (await client.get("/api/me/sync", headers=world.headers("dev_a"))).json()
    assert status["book_time"] is False

    env = {"DATABASE_URL": world.database_url, "GATEWAY_SECRET_KEYS": key_line}
    result = await asyncio.to_thread(run_gateway, "sync", "--user", "dev_a", **env)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Tasklog" in line and "│" in line)
    assert [cell.strip() for cell in row.split("│")][3:5] == ["Tasklog", "no"]
    assert "note: Tasklog does not book time (book_time is false): its entries are not pushed" in result.stdout
    assert tasklog.worklogs == {}

    await client.patch(f"/api/ticket-systems/{linked}", json={"book_time": True}, headers=admin)
    [link] = (await client.get("/api/me/ticket-systems", headers=world.headers("dev_a"))).json()
    assert link["book_time"] is True


async def test_the_sync_command_previews_with_dry_run(
    run_gateway: Run, world: World, tasklog: FakeTasklog, linked: int, key_line: str
) -> None:
    entry_id = await book_directly(world)
    env = {"DATABASE_URL": world.database_url, "GATEWAY_SECRET_KEYS": key_line}
    preview = await asyncio.to_thread(run_gateway, "sync", "--all", "--dry-run", **env)
    assert preview.returncode == 0, preview.stderr
    assert f"(dev_a, Tasklog): create entry {entry_id} on TL-2" in preview.stdout
    assert "dry run: nothing was written" in preview.stdout
    assert tasklog.worklogs == {}
    synced = await asyncio.to_thread(run_gateway, "sync", "--all", **env)
    assert synced.returncode == 0, synced.stderr
    assert len(tasklog.worklogs) == 1


async def book_directly(world: World) -> int:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        entry = await create_entry(
            session,
            world.caller("dev_a"),
            EntryCreate(
                day=date(2026, 11, 24),
                start="13:00",
                end="14:00",
                project_id=world.id("projects", "Alpha Web"),
                activity_id=world.id("activities", "Development"),
                ticket="TL-2",
            ),
        )
        await session.commit()
    await engine.dispose()
    return entry.id


async def test_a_ticket_the_tracker_does_not_know_is_refused_when_booking(
    client: Client, world: World, tasklog: FakeTasklog, linked: int
) -> None:
    body = {
        "day": "2026-11-24", "start": "11:00", "end": "12:00", "ticket": "TL-404",
        "project_id": world.id("projects", "Alpha Web"), "activity_id": world.id("activities", "Development"),
    }  # fmt: skip
    refused = await client.post("/api/entries", json=body, headers=world.headers("dev_a"))
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Tasklog has no ticket TL-404"
    assert refused.json()["errors"] == [{"key": "ticket", "message": "Tasklog has no ticket TL-404"}]

    # A known ticket is looked up once and cached; later bookings on it ask the tracker nothing.
    first = await book(client, world, ticket="TL-2")
    with tasklog.lock:
        del tasklog.issues["TL-2"]  # were it asked again, the tracker would now say 404
    await book(client, world, ticket="TL-2", start="13:00", end="14:00")

    # Moving an entry to an unknown ticket is refused too; the entry stays as it was.
    moved = await client.patch(
        f"/api/entries/{first['id']}", json={"ticket": "TL-405", "version": first["version"]},
        headers=world.headers("dev_a"),
    )  # fmt: skip
    assert moved.status_code == 422
    assert (await client.get(f"/api/entries/{first['id']}", headers=world.headers("dev_a"))).json()["ticket"] == "TL-2"

    # When the tracker cannot answer, booking goes on: the sync reports any problem later.
    tasklog.fail_next(503)
    await book(client, world, ticket="TL-1", start="15:00", end="16:00")
