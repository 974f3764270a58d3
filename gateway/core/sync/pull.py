"""Pull: the tracker's changed worklogs, applied page by page, with the read's position kept per page.

Each page is reconciled and committed in one transaction together with the position of the next page
(`links.sync_page`), so a run that stops — a crash, or the time bound that keeps each job within the job timeout
— goes on from the last committed page instead of starting over. Only when the last page is applied does the
cursor (`links.sync_cursor`) move. Memory stays that of one page, whatever the size of the read. Deletions the
tracker reported are kept with the position and applied once the read is complete (a worklog a later page still
lists is not deleted).

Reconciliation is three-way against each entry's base snapshot: a change on the tracker's side only updates the
entry (with a revision naming the tracker), a change of the same field on both sides becomes a conflict, and a
worklog nobody pushed is imported (`imports`). Deletions are recorded only when the tracker reports them, never
because a worklog is missing from a read.
"""

from __future__ import annotations

import time as monotonic_clock
import uuid
from typing import Any

import msgspec
from sqlalchemy import or_, select

from gateway.connectors import NotFound, PullPage, Rejected, RemoteWorklog
from gateway.core.commit_events import record_entry_change
from gateway.core.entries import reclassify_day
from gateway.core.enums import SyncState
from gateway.core.logs import get_logger
from gateway.core.models import Activity, Entry, Project, UnmappedWorklog, User, WorklogSyncState
from gateway.core.revisions import audited_values, record_revision
from gateway.core.sync import snapshot
from gateway.core.sync.context import Run
from gateway.core.sync.imports import Importer
from gateway.core.sync.push import remote_deleted
from gateway.core.sync.reconcile import Outcome, reconcile

log = get_logger("gateway.sync")


async def pull(run: Run) -> None:
    """Read and apply the tracker's changes since the link's cursor, for at most `pull_seconds`."""
    deadline = monotonic_clock.monotonic() + run.deps.pull_seconds
    link = run.link
    cursor = link.sync_cursor
    stored = _Position.load(link.sync_page)
    page, deleted = stored.page, set(stored.deleted)
    importer = Importer(run)
    while True:
        try:
            result = await _read(run, cursor, page)
        except (Rejected, NotFound):
            if page is None or page != stored.page:
                raise
            # The stored position is no longer valid at the tracker: read again from the cursor.
            log.info("the tracker refused a stored pull position; reading from the cursor", link_id=link.id)
            page, deleted = None, set()
            continue
        await _apply_page(run, importer, result)
        deleted = (deleted | set(result.deleted_ids)) - {worklog.id for worklog in result.worklogs}
        if result.next_page is None:
            for worklog_id in sorted(deleted):
                await _deleted_remotely(run, worklog_id)
            await importer.retry_unmapped()
            link.sync_cursor = result.cursor or link.sync_cursor
            link.sync_page = None
            await run.session.commit()
            return
        page = result.next_page
        link.sync_page = _Position(page, sorted(deleted)).dump()
        await run.session.commit()  # the page and the position after it, together
        if monotonic_clock.monotonic() >= deadline:
            run.report.pull_unfinished = True
            return


async def _read(run: Run, cursor: str | None, page: str | None) -> PullPage:
    return await run.read(lambda c: run.connector.pull_worklogs(c, cursor, page), "read changed worklogs")


async def _apply_page(run: Run, importer: Importer, result: PullPage) -> None:
    account = run.link.remote_account_id
    mine = [w for w in result.worklogs if account is None or w.author_id is None or w.author_id == account]
    entries = await _entries_of(run, mine)
    new: list[RemoteWorklog] = []
    for worklog in mine:
        run.report.pulled += 1
        entry = entries.get(worklog.id) or (entries.get(f"marker:{worklog.marker}") if worklog.marker else None)
        if entry is None:
            new.append(worklog)
        else:
            await _reconcile(run, entry, worklog)
    await importer.import_all(new)


class _Position(msgspec.Struct):
    """Where an unfinished read goes on: the tracker's next page, and the deletions it reported so far."""

    page: str | None = None
    deleted: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def load(cls, text: str | None) -> _Position:
        if not text:
            return cls()
        try:
            return msgspec.json.decode(text, type=cls)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return cls()  # not ours (an older gateway's): read from the cursor

    def dump(self) -> str:
        return msgspec.json.encode(self).decode()


async def _entries_of(run: Run, worklogs: list[RemoteWorklog]) -> dict[str, Entry]:
    """The entries of a page's worklogs, by worklog id and (as `marker:<uuid>`) by the marker written with them."""
    if not worklogs:
        return {}
    found: dict[str, Entry] = {}
    by_id = await run.session.scalars(
        select(Entry)
        .outerjoin(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
        .join(Project, Project.id == Entry.project_id)
        .where(
            Entry.user_id == run.link.user_id,
            Entry.worklog_id.in_([w.id for w in worklogs]),
            or_(WorklogSyncState.link_id == run.link.id, Project.ticket_system_id == run.system.id),
        )
    )
    for entry in by_id:
        found[str(entry.worklog_id)] = entry
    markers = {u for w in worklogs if w.id not in found and w.marker and (u := _uuid_or_none(w.marker))}
    if markers:
        by_marker = await run.session.scalars(
            select(Entry).where(Entry.user_id == run.link.user_id, Entry.uuid.in_(markers))
        )
        for entry in by_marker:
            found[f"marker:{entry.uuid}"] = entry
    return found


async def _reconcile(run: Run, entry: Entry, remote: RemoteWorklog) -> None:
    session = run.session
    if entry.deleted_at is not None:
        return  # a pending delete will remove it remotely
    state = await session.get(WorklogSyncState, entry.id) or WorklogSyncState(entry_id=entry.id)
    session.add(state)
    kept_ticket = snapshot.renamed_ticket(remote, state.base)
    remote_snapshot = snapshot.of_remote(remote, kept_ticket)
    local_activity = await _activity_name(run, entry.activity_id)
    if entry.worklog_id != remote.id:
        # Ours, found by its marker (a create whose answer was lost, or a worklog the tracker moved): what the
        # tracker holds is what we wrote, so it is the base, and any later local edit is a local change.
        entry.worklog_id = remote.id
        entry.synced_to_ticketsystem = True
        state.link_id = run.link.id
        state.push_started_at = None
        state.base = snapshot.base_of(remote, None, local_activity)
    if entry.sync_state is SyncState.CONFLICT:
        state.conflict_remote = {**remote_snapshot, "id": remote.id}
        return
    base = state.base or {}
    decision = reconcile(snapshot.of_entry(entry), remote_snapshot, state.base)
    if decision.outcome is Outcome.CONFLICT:
        state.conflict_remote = {**remote_snapshot, "id": remote.id}
        state.remote_updated_at = remote.updated_at
        entry.sync_state = SyncState.CONFLICT
        entry.sync_error = f"changed here and in {run.system.name}: {', '.join(sorted(decision.clashing))}"
        run.report.note("conflict", entry.id, entry.ticket, remote.id, ", ".join(sorted(decision.clashing)))
        return
    take = set(decision.take) if decision.outcome in (Outcome.TAKE_REMOTE, Outcome.MERGE) else set()
    activity_id = await _taken_activity(run, remote, base, local_activity)
    if activity_id is not None and activity_id != entry.activity_id:
        take.add("activity")
    # The gateway activity last synced stays the base's until a push writes another or the tracker's is taken.
    synced_activity = base.get("local_activity", local_activity) if state.base is not None else local_activity
    if take:
        run.report.note("taken", entry.id, entry.ticket, remote.id, ", ".join(sorted(take)))
        await apply_remote(run, entry, remote_snapshot, frozenset(take), activity_id=activity_id)
        if decision.outcome is not Outcome.MERGE and entry.sync_state is not SyncState.PENDING:
            entry.sync_state = SyncState.SYNCED
        elif decision.outcome is Outcome.MERGE:
            entry.sync_state = SyncState.PENDING
        if "activity" in take:
            synced_activity = await _activity_name(run, entry.activity_id)
    state.base = snapshot.base_of(remote, kept_ticket, synced_activity)
    state.remote_updated_at = remote.updated_at


async def _taken_activity(run: Run, remote: RemoteWorklog, base: dict[str, Any], local: str | None) -> int | None:
    """The gateway activity to take when the tracker's activity changed since the last sync and the gateway's did
    not (None: nothing to take, or no gateway activity of that name)."""
    if remote.activity is None or remote.activity == base.get("activity") or "activity" not in base:
        return None
    if base.get("local_activity") != local:
        return None  # changed on both sides: the gateway's is pushed
    return await run.session.scalar(
        select(Activity.id).where(Activity.name.ilike(remote.activity), Activity.deleted_at.is_(None)).limit(1)
    )


async def _activity_name(run: Run, activity_id: int) -> str | None:
    activity = await run.session.get(Activity, activity_id)
    return activity.name if activity is not None else None


async def apply_remote(
    run: Run, entry: Entry, remote: snapshot.Snapshot, fields: frozenset[str], *, activity_id: int | None = None
) -> None:
    """Copy the tracker's values of `fields` into the entry, with a revision naming the tracker."""
    session = run.session
    # The user's row orders this change with the user's own edits of the same days (their classes).
    await session.execute(select(User.id).where(User.id == entry.user_id).with_for_update())
    before = audited_values(entry)
    old_day = entry.day
    if "ticket" in fields:
        entry.ticket = remote["ticket"]
    if "description" in fields:
        entry.description = remote["description"]
    if "day" in fields:
        entry.day = snapshot.day_of(remote)
    if "start" in fields:
        entry.start = snapshot.start_of(remote, entry.start)
    if "activity" in fields and activity_id is not None:
        entry.activity_id = activity_id
    if {"start", "minutes"} & fields:
        end = snapshot.end_of(entry.start, remote["minutes"] if "minutes" in fields else entry.duration)
        if end is None:
            raise Rejected(f"the tracker's worklog for entry {entry.id} would run past midnight")
        entry.end = end
        entry.duration = remote["minutes"] if "minutes" in fields else entry.duration
    entry.version += 1
    await session.flush()
    for day in {old_day, entry.day}:
        await reclassify_day(session, entry.user_id, day)
    await record_revision(
        session, entry, author_id=None, source=run.source, action="update", before=before,
        after=audited_values(entry),
    )  # fmt: skip
    record_entry_change(session, entry, "update")


async def _deleted_remotely(run: Run, worklog_id: str) -> None:
    session = run.session
    await session.execute(
        UnmappedWorklog.__table__.delete().where(  # type: ignore[attr-defined]
            UnmappedWorklog.link_id == run.link.id, UnmappedWorklog.worklog_id == worklog_id
        )
    )
    entry = await session.scalar(
        select(Entry)
        .join(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
        .where(Entry.worklog_id == worklog_id, WorklogSyncState.link_id == run.link.id)
    )
    if entry is None or entry.deleted_at is not None:
        return
    state = await session.get(WorklogSyncState, entry.id)
    assert state is not None
    await record_revision(
        session, entry, author_id=None, source=run.source, action="remote_delete",
        before={"worklog_id": worklog_id}, after={},
    )  # fmt: skip
    await remote_deleted(run, entry, state)


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
