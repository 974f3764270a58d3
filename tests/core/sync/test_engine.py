"""The sync engine against the fake Tasklog: push exactly once, pull with three-way reconciliation."""

from __future__ import annotations

import asyncio
from datetime import time

import pytest
from sqlalchemy import select, update

from gateway.connectors import Transient
from gateway.core.enums import SyncState
from gateway.core.models import Entry, Project, SyncRun, UnmappedWorklog
from gateway.core.revisions import list_revisions
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.engine import sync_link
from tests.core.sync.conftest import DAY, SyncEnv


async def test_a_booking_is_pushed_once_with_its_marker(sync_env: SyncEnv) -> None:
    entry = await sync_env.book(ticket="TL-1", start="08:15", end="09:45", description="Login form")
    assert entry.sync_state is SyncState.PENDING

    report = await sync_env.sync()

    [remote] = sync_env.remote()
    assert (remote["issue"], remote["date"], remote["start"], remote["minutes"]) == ("TL-1", "2026-11-24", "08:15", 90)
    assert (remote["note"], remote["marker"]) == ("Login form", str(entry.uuid))
    synced = await sync_env.entry(entry.id)
    assert (synced.sync_state, synced.worklog_id, synced.synced_to_ticketsystem) == (
        SyncState.SYNCED,
        remote["id"],
        True,
    )
    assert report.pushed == 1
    # Pulling it back is no change, and a second sync writes nothing.
    await sync_env.sync()
    assert sync_env.fake.created_markers == [str(entry.uuid)]
    assert sync_env.fake.count("update worklog") == 0


async def test_changes_and_deletions_follow_the_entry(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    await sync_env.sync()
    await sync_env.change(entry.id, description="Reworded", end="11:00")
    await sync_env.sync()
    [remote] = sync_env.remote()
    assert (remote["note"], remote["minutes"]) == ("Reworded", 120)
    assert len(sync_env.fake.created_markers) == 1

    await sync_env.delete(entry.id)
    await sync_env.sync()
    assert sync_env.remote() == []
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.SYNCED


async def test_a_ticket_change_moves_the_worklog(sync_env: SyncEnv) -> None:
    entry = await sync_env.book(ticket="TL-1")
    await sync_env.sync()
    await sync_env.change(entry.id, ticket="TL-2")
    await sync_env.sync()
    [remote] = sync_env.remote()
    assert remote["issue"] == "TL-2"
    assert (await sync_env.entry(entry.id)).worklog_id == remote["id"]


async def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    sync_env.fake.lose_next_create_answer = True  # Tasklog creates it, the gateway hears a 504
    with pytest.raises(Deferred):
        await sync_env.sync()
    assert len(sync_env.remote()) == 1
    pending = await sync_env.entry(entry.id)
    assert pending.sync_state is SyncState.PENDING
    state = await sync_env.state(entry.id)
    assert state is not None
    assert state.push_started_at is not None

    await sync_env.sync()
    [remote] = sync_env.remote()
    assert sync_env.fake.created_markers == [str(entry.uuid)]
    assert (await sync_env.entry(entry.id)).worklog_id == remote["id"]


async def test_a_refused_worklog_fails_its_entry_with_the_trackers_reason(sync_env: SyncEnv) -> None:
    bad = await sync_env.book(ticket="TL-404")
    good = await sync_env.book(ticket="TL-2", start="11:00", end="12:00")
    report = await sync_env.sync()
    failed = await sync_env.entry(bad.id)
    assert failed.sync_state is SyncState.FAILED
    assert "issue TL-404 does not exist" in (failed.sync_error or "")
    assert (await sync_env.entry(good.id)).sync_state is SyncState.SYNCED
    assert (report.failed, report.pushed) == (1, 1)


async def test_a_rate_limit_defers_the_run_by_retry_after(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    sync_env.fake.fail_next(429, {"Retry-After": "7"})
    with pytest.raises(Deferred) as deferred:
        await sync_env.sync()
    assert deferred.value.retry_after == 7
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.PENDING
    link = await sync_env.link()
    assert "slow down" in (link.last_error or "")
    assert link.sync_lease_owner is None  # the lease is released for the retry
    await sync_env.sync()
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.SYNCED


async def test_a_server_error_defers_with_backoff_and_loses_nothing(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    for _ in range(3):
        sync_env.fake.fail_next(500)
        with pytest.raises(Deferred) as deferred:
            await sync_env.sync()
        assert deferred.value.retry_after is None
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.PENDING
    await sync_env.sync()
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.SYNCED
    assert len(sync_env.remote()) == 1


async def test_a_refused_pull_is_recorded_on_the_run_and_the_link_and_the_pushes_still_go_out(
    sync_env: SyncEnv,
) -> None:
    entry = await sync_env.book()
    sync_env.fake.fail_next(422)
    report = await sync_env.sync()
    assert (report.pull_error or "").startswith("pull failed: read changed worklogs: the tracker refused it (422)")
    link = await sync_env.link()
    assert (link.last_error or "").startswith("pull failed: read changed worklogs: the tracker refused it (422)")
    assert link.last_sync_at is None  # not a sync: the tracker's changes were not read
    assert link.sync_lease_owner is None
    async with sync_env.session() as session:
        run = await session.scalar(select(SyncRun))
    assert run is not None
    assert (run.error or "").startswith("pull failed:")
    assert run.pushed == 1
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.SYNCED
    await sync_env.sync()
    assert (await sync_env.link()).last_error is None
    assert len(sync_env.remote()) == 1


async def test_an_expired_token_is_refreshed_and_the_call_repeated(sync_env: SyncEnv) -> None:
    await sync_env.book()
    sync_env.fake.expire_access_tokens()
    await sync_env.sync()
    assert sync_env.fake.count("token:refresh_token") == 1
    assert len(sync_env.remote()) == 1


async def test_a_revoked_grant_stops_the_link_until_the_user_reconnects(sync_env: SyncEnv) -> None:
    entry = await sync_env.book()
    sync_env.fake.expire_access_tokens()
    sync_env.fake.grants[-1].revoked = True
    report = await sync_env.sync()
    assert report.skipped is not None
    assert "reconnect" in report.skipped
    link = await sync_env.link()
    assert link.needs_reconnect
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.PENDING
    assert (await sync_env.sync()).skipped  # no further attempts


async def test_two_syncs_of_one_link_at_once_push_each_entry_once(sync_env: SyncEnv) -> None:
    entries = [await sync_env.book(start=f"{8 + n:02d}:00", end=f"{8 + n:02d}:30") for n in range(4)]
    reports = await asyncio.gather(sync_env.sync(), sync_env.sync(), sync_env.sync())
    assert sum(r.pushed for r in reports) == 4
    assert sorted(sync_env.fake.created_markers) == sorted(str(e.uuid) for e in entries)
    assert any(r.skipped == "another worker is syncing this link" for r in reports)


# --- Pull -------------------------------------------------------------------------------------------------------


async def synced_entry(sync_env: SyncEnv, **values: object) -> tuple[int, str]:
    entry = await sync_env.book(**values)
    await sync_env.sync()
    return entry.id, (await sync_env.entry(entry.id)).worklog_id or ""


async def test_a_change_made_only_in_the_tracker_updates_the_entry(sync_env: SyncEnv) -> None:
    entry_id, worklog_id = await synced_entry(sync_env)
    sync_env.fake.edit_worklog(worklog_id, minutes=45, note="Shorter")
    report = await sync_env.sync()
    entry = await sync_env.entry(entry_id)
    assert (entry.duration, entry.end, entry.description) == (45, time(9, 45), "Shorter")
    assert entry.sync_state is SyncState.SYNCED
    assert report.pulled >= 1
    async with sync_env.session() as session:
        revisions = await list_revisions(session, entry_id)
    assert (revisions[-1].source, revisions[-1].author_id) == ("sync:Tasklog", None)
    assert revisions[-1].changes["description"] == ["Work", "Shorter"]
    assert sync_env.fake.count("update worklog") == 0  # taken, not echoed back


async def test_the_same_field_changed_on_both_sides_is_a_conflict_keeping_both(sync_env: SyncEnv) -> None:
    entry_id, worklog_id = await synced_entry(sync_env)
    sync_env.fake.edit_worklog(worklog_id, note="Theirs")
    await sync_env.change(entry_id, description="Mine")
    # Pull first, as a webhook-triggered pull would, before the local change is pushed.

    report = await sync_link(sync_env.deps, sync_env.link_id, push=False)
    entry = await sync_env.entry(entry_id)
    state = await sync_env.state(entry_id)
    assert entry.sync_state is SyncState.CONFLICT
    assert entry.description == "Mine"
    assert state is not None
    assert state.conflict_remote is not None
    assert state.conflict_remote["description"] == "Theirs"
    assert report.conflicts == 1
    # A conflict is not pushed over the tracker's version.
    await sync_env.sync()
    assert sync_env.remote()[0]["note"] == "Theirs"


async def test_different_fields_changed_on_both_sides_are_merged(sync_env: SyncEnv) -> None:
    entry_id, worklog_id = await synced_entry(sync_env)
    sync_env.fake.edit_worklog(worklog_id, note="Theirs")
    await sync_env.change(entry_id, end="12:00")

    await sync_link(sync_env.deps, sync_env.link_id, push=False)
    merged = await sync_env.entry(entry_id)
    assert (merged.description, merged.duration, merged.sync_state) == ("Theirs", 180, SyncState.PENDING)
    await sync_env.sync()
    [remote] = sync_env.remote()
    assert (remote["note"], remote["minutes"]) == ("Theirs", 180)


async def test_a_deletion_in_the_tracker_keeps_the_entry_marked(sync_env: SyncEnv) -> None:
    entry_id, worklog_id = await synced_entry(sync_env)
    sync_env.fake.remove_worklog(worklog_id)
    report = await sync_env.sync()
    entry = await sync_env.entry(entry_id)
    assert entry.sync_state is SyncState.REMOTE_DELETED
    assert entry.deleted_at is None
    assert report.remote_deleted == 1


async def test_a_read_that_stops_midway_resumes_from_its_last_committed_page(sync_env: SyncEnv) -> None:
    first_id, first_worklog = await synced_entry(sync_env, start="08:00", end="09:00")
    second_id, _ = await synced_entry(sync_env, start="10:00", end="11:00")
    cursor = (await sync_env.link()).sync_cursor
    sync_env.fake.edit_worklog(first_worklog, note="Changed remotely")
    for n in range(3):
        sync_env.fake.add_worklog("u1", "TL-2", "2026-11-25", 15, f"remote {n}")
    sync_env.fake.remove_worklog(first_worklog)  # reported deleted on the first page
    # The second page fails (pages of two): the read stops after the first page was applied.
    original = sync_env.deps.runtime.registry.require("tasklog").connector.pull_worklogs
    pages: list[str | None] = []

    async def failing_second_page(self, credentials, cursor, page):  # type: ignore[no-untyped-def]
        pages.append(page)
        if len(pages) == 2:
            raise Transient("connection dropped")
        return await original(self, credentials, cursor, page)

    connector_class = sync_env.deps.runtime.registry.require("tasklog").connector
    connector_class.pull_worklogs = failing_second_page  # type: ignore[method-assign]
    try:
        with pytest.raises(Deferred):
            await sync_env.sync()
        link = await sync_env.link()
        assert link.sync_cursor == cursor  # the cursor moves only when the read is complete …
        assert link.sync_page is not None  # … but the first page is committed, with the position after it
        # The first page (two worklogs: the second entry's own, pushed after the last read, and one made in
        # Tasklog) is applied: one import.
        assert len(await sync_env.entries()) == 3
        # A deletion is applied only once the read is complete.
        assert (await sync_env.entry(first_id)).sync_state is SyncState.SYNCED

        await sync_env.sync()
    finally:
        connector_class.pull_worklogs = original  # type: ignore[method-assign]
    assert pages[2] == pages[1]  # the next run went on from the page that failed, not from the start
    assert (await sync_env.entry(first_id)).sync_state is SyncState.REMOTE_DELETED
    assert (await sync_env.entry(second_id)).sync_state is SyncState.SYNCED
    assert len(await sync_env.entries()) == 5  # each remote worklog imported once
    link = await sync_env.link()
    assert (link.sync_cursor, link.sync_page) != (cursor, None)
    assert link.sync_page is None


async def test_a_worklog_made_in_the_tracker_is_imported_without_echo(sync_env: SyncEnv) -> None:
    worklog_id = sync_env.fake.add_worklog("u1", "TL-2", "2026-11-25", 50, "Call with client", start="14:10")
    sync_env.fake.add_worklog("u2", "TL-2", "2026-11-25", 30, "Someone else's")
    report = await sync_env.sync()
    [entry] = await sync_env.entries()
    assert (entry.ticket, entry.day.isoformat(), entry.start, entry.end) == (
        "TL-2",
        "2026-11-25",
        time(14, 10),
        time(15, 0),
    )
    assert (entry.worklog_id, entry.sync_state, entry.description) == (worklog_id, SyncState.SYNCED, "Call with client")
    assert report.imported == 1
    await sync_env.sync()
    assert sync_env.fake.created_markers == []
    assert sync_env.fake.count("update worklog") == 0


async def test_an_unmappable_worklog_is_parked_until_a_project_takes_it(sync_env: SyncEnv) -> None:
    sync_env.fake.add_issue("OPS-1", "Outage")
    sync_env.fake.add_worklog("u1", "OPS-1", "2026-11-25", 20, "Night shift")
    report = await sync_env.sync()
    assert report.unmapped == 1
    assert await sync_env.entries() == []
    async with sync_env.session() as session:
        [parked] = (await session.scalars(select(UnmappedWorklog))).all()
        assert "no project of Tasklog takes ticket OPS-1" in parked.reason
        project = await session.get(Project, sync_env.project_id)
        assert project is not None
        project.ticket_prefixes = ["TL", "OPS"]
        await session.commit()
    await sync_env.sync()
    [entry] = await sync_env.entries()
    assert (entry.ticket, entry.day) == ("OPS-1", DAY.replace(day=25))


async def test_an_issue_renamed_in_the_tracker_keeps_the_entrys_ticket_and_its_worklog(sync_env: SyncEnv) -> None:
    # The same ticket id under another key is the ticket renamed (an issue moved to another project), not the
    # worklog moved: the entry keeps the key its project accepts, and its edits still reach the same worklog.
    entry_id, worklog_id = await synced_entry(sync_env)
    sync_env.fake.rename_issue("TL-1", "OPS-7")
    sync_env.fake.edit_worklog(worklog_id, note="Renamed meanwhile")
    await sync_env.sync()
    entry = await sync_env.entry(entry_id)
    assert (entry.ticket, entry.description, entry.sync_state) == ("TL-1", "Renamed meanwhile", SyncState.SYNCED)

    await sync_env.change(entry_id, description="Ours")
    await sync_env.sync()
    assert sync_env.fake.worklogs[worklog_id]["note"] == "Ours"
    assert (await sync_env.entry(entry_id)).ticket == "TL-1"
    assert (sync_env.fake.count("create worklog"), sync_env.fake.count("delete worklog")) == (1, 0)


async def test_an_edit_made_while_the_push_settles_its_entry_leaves_it_pending(
    sync_env: SyncEnv, database_url: str
) -> None:
    # The push's settle has written `synced` and holds the row when the user's edit, which read the row before,
    # writes: the edit must leave the entry pending (it once kept `synced`, and the edit never reached the tracker).
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: an edit cannot read the row while a push holds it")
    entry = await sync_env.book()
    async with sync_env.session() as push:
        await push.execute(update(Entry).where(Entry.id == entry.id).values(sync_state=SyncState.SYNCED))
        edit = asyncio.create_task(sync_env.change(entry.id, description="Edited meanwhile"))
        await asyncio.sleep(1)
        assert not edit.done()  # it waits for the push's row lock
        await push.execute(
            update(Entry)
            .where(Entry.id == entry.id, Entry.version != entry.version)
            .values(sync_state=SyncState.PENDING)
        )
        await push.commit()
    await edit
    assert (await sync_env.entry(entry.id)).sync_state is SyncState.PENDING
