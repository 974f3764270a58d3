"""The sync preview: what the next sync would do, with nothing written to the database or the tracker; the sync
that follows does exactly that. On PostgreSQL and SQLite, against the fake Tasklog."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from gateway.core.errors import TrackerUnavailable
from gateway.core.models import Link
from gateway.core.secrets_at_rest import open_credentials, store_credentials
from gateway.core.sync.engine import PreviewUnavailable, SyncReport
from gateway.core.sync.preview import preview_link
from tests.core.sync.conftest import DAY, SyncEnv

TABLES = (
    "entries", "worklog_sync_states", "entry_revisions", "users_ticket_systems", "sync_runs", "unmapped_worklogs",
    "tickets", "oauth_states",
)  # fmt: skip
WRITES = ("create worklog", "update worklog", "delete worklog")
COUNTS = (
    "created", "updated", "adopted", "deleted", "pushed", "imported", "taken", "conflicts", "remote_deleted",
    "unmapped", "failed", "pulled",
)  # fmt: skip


async def database(sync_env: SyncEnv) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a sync touches, as plain values."""
    async with sync_env.session() as session:
        return {
            table: sorted(map(tuple, (await session.execute(text(f"SELECT * FROM {table}"))).all()), key=repr)
            for table in TABLES
        }


def tracker(sync_env: SyncEnv) -> tuple[Any, ...]:
    fake = sync_env.fake
    with fake.lock:
        return (
            {key: dict(value) for key, value in fake.worklogs.items()},
            list(fake.deleted),
            [fake.count(name) for name in WRITES],
            [(grant.refresh_token, grant.revoked) for grant in fake.grants],
        )


def counts(report: SyncReport) -> dict[str, int]:
    return {name: getattr(report, name) for name in COUNTS}


def events(report: SyncReport) -> Counter[tuple[str, int | None, str]]:
    return Counter((event.action, event.entry_id, event.ticket) for event in report.events)


async def test_the_preview_shows_what_the_next_sync_does_and_writes_nothing(sync_env: SyncEnv) -> None:
    fake = sync_env.fake
    edited = await sync_env.book(description="Edited here")
    gone = await sync_env.book(start="11:00", end="11:30")
    followed = await sync_env.book(start="12:00", end="12:30", ticket="TL-2")
    deleted_there = await sync_env.book(start="13:00", end="13:30")
    clashing = await sync_env.book(start="14:00", end="14:30")
    moved = await sync_env.book(start="15:00", end="15:30")
    first = await sync_env.sync()
    assert first.created == 6

    remote = {worklog["marker"]: worklog["id"] for worklog in sync_env.remote()}
    await sync_env.change(edited.id, description="Edited here, again")  # → update
    await sync_env.delete(gone.id)  # → delete
    fake.edit_worklog(remote[str(followed.uuid)], minutes=45)  # → the entry takes the tracker's change
    fake.remove_worklog(remote[str(deleted_there.uuid)])  # → marked deleted in the tracker
    await sync_env.change(clashing.id, description="Mine")
    fake.edit_worklog(remote[str(clashing.uuid)], note="Theirs")  # → conflict
    await sync_env.change(moved.id, ticket="TL-2")  # → delete on TL-1, create on TL-2
    new = await sync_env.book(start="16:00", end="16:45", description="New")  # → create
    fake.add_worklog("u1", "TL-1", DAY.isoformat(), 20, "Made in Tasklog", start="17:00")  # → import
    fake.add_worklog("u1", "ZZ-9", DAY.isoformat(), 10, "No project takes it")  # → unmapped

    before_db, before_tracker = await database(sync_env), tracker(sync_env)
    preview = await preview_link(sync_env.deps, sync_env.link_id)
    assert await database(sync_env) == before_db
    assert tracker(sync_env) == before_tracker

    assert preview.skipped is None
    assert {name: value for name, value in counts(preview).items() if value} == {
        "created": 2, "updated": 1, "deleted": 2, "pushed": 3, "imported": 1, "taken": 1, "conflicts": 1,
        "remote_deleted": 1, "unmapped": 1, "pulled": 7,
    }  # fmt: skip
    expected = Counter(
        {
            ("updated", edited.id, "TL-1"): 1,
            ("deleted", gone.id, "TL-1"): 1,
            ("taken", followed.id, "TL-2"): 1,
            ("remote_deleted", deleted_there.id, "TL-1"): 1,
            ("conflict", clashing.id, "TL-1"): 1,
            ("deleted", moved.id, "TL-1"): 1,  # the worklog goes from the old ticket …
            ("created", moved.id, "TL-2"): 1,  # … and is made on the new one
            ("created", new.id, "TL-1"): 1,
            ("imported", None, "TL-1"): 1,
            ("unmapped", None, "ZZ-9"): 1,
        }
    )
    assert events(preview) == expected

    # A preview twice is the same preview: the first one changed nothing.
    assert events(await preview_link(sync_env.deps, sync_env.link_id)) == events(preview)

    report = await sync_env.sync()
    assert counts(report) == counts(preview)
    assert events(report) == events(preview)


async def test_a_preview_with_nothing_to_do_is_empty(sync_env: SyncEnv) -> None:
    await sync_env.book()
    await sync_env.sync()
    preview = await preview_link(sync_env.deps, sync_env.link_id)
    assert preview.events == []
    assert preview.pushed == preview.imported == 0


async def test_an_expired_token_is_not_refreshed_by_a_preview(sync_env: SyncEnv) -> None:
    await sync_env.book()
    async with sync_env.session() as session:
        link = await session.get(Link, sync_env.link_id)
        assert link is not None
        credentials = open_credentials(link, sync_env.deps.runtime.key_ring)
        assert credentials is not None
        credentials.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        store_credentials(link, credentials, sync_env.deps.runtime.key_ring)
        await session.commit()
    before = tracker(sync_env)
    with pytest.raises(PreviewUnavailable, match="refreshes it first"):
        await preview_link(sync_env.deps, sync_env.link_id)
    assert tracker(sync_env) == before
    assert sync_env.fake.count("token:refresh_token") == 0


async def test_a_tracker_that_fails_makes_the_preview_fail_and_changes_nothing(sync_env: SyncEnv) -> None:
    await sync_env.book()
    before = await database(sync_env)
    sync_env.fake.fail_next(503, {"Retry-After": "5"})
    with pytest.raises(TrackerUnavailable, match="could not read the tracker"):
        await preview_link(sync_env.deps, sync_env.link_id)
    assert await database(sync_env) == before


async def test_a_preview_runs_while_another_runner_holds_the_link(sync_env: SyncEnv) -> None:
    await sync_env.book()
    async with sync_env.session() as session:
        link = await session.scalar(select(Link).where(Link.id == sync_env.link_id))
        assert link is not None
        link.sync_lease_owner, link.sync_lease_until = "elsewhere", datetime.now(UTC) + timedelta(minutes=5)
        await session.commit()
    preview = await preview_link(sync_env.deps, sync_env.link_id)
    assert preview.created == 1
    assert (await sync_env.link()).sync_lease_owner == "elsewhere"
