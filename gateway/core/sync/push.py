"""Push: the link's pending entries go to the tracker, concurrently across tickets, in order within one ticket.

Entries are grouped by ticket. Up to `SyncDeps.push_lanes` lanes (an `asyncio.TaskGroup`, one database session
each) take a ticket's group at a time and push its entries one after another, so requests to different tickets
overlap up to the ticket system's request budget, while one ticket's requests stay ordered (Jira limits writes
per issue, GitLab keeps per-issue totals). A lane that meets a deferral (a 429, a 5xx, a lost lease) stops the
others after their current entry, and the run is deferred.

No duplicate worklogs: before a remote create the attempt is committed; a later attempt first looks the worklog
up by its marker (the entry's uuid) and adopts it. An outcome is stored without locking anything but the entry:
if the user changed the entry meanwhile (its version moved on), it stays pending for the next push.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from datetime import datetime

from sqlalchemy import or_, select, update

from gateway.connectors import AuthRevoked, Capability, NotFound, Rejected, RemoteWorklog, WorklogDraft
from gateway.core.enums import SyncState
from gateway.core.logs import get_logger
from gateway.core.models import Activity, Entry, Project, WorklogSyncState
from gateway.core.sync import snapshot
from gateway.core.sync.context import Run
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.errors import LeaseLost

log = get_logger("gateway.sync")


async def push(run: Run) -> None:
    """Push every pending entry of the link."""
    lanes = await _pending_by_ticket(run)
    await run.session.commit()  # no transaction stays open while the lanes work
    if not lanes:
        return
    width = 1 if run.dry_run or _is_sqlite(run) else max(1, min(run.deps.push_lanes, len(lanes)))
    if width == 1:
        for entry_ids in lanes:
            for entry_id in entry_ids:
                await push_entry(run, entry_id)
        return
    queue = deque(lanes)
    stop: list[BaseException] = []
    async with asyncio.TaskGroup() as group:
        for _ in range(width):
            group.create_task(_lane(run, queue, stop))
    if stop:
        raise _most_telling(stop)


async def _lane(run: Run, queue: deque[list[int]], stop: list[BaseException]) -> None:
    async with run.deps.session_factory() as session:
        mine = replace(run, session=session)
        while queue and not stop:
            for entry_id in queue.popleft():
                if stop:
                    return
                try:
                    await push_entry(mine, entry_id)
                except Exception as exc:
                    stop.append(exc)
                    await session.rollback()
                    return


def _most_telling(failures: list[BaseException]) -> BaseException:
    """The failure the run reports: reconnect before a lost lease before a deferral before anything else."""
    for kind in (AuthRevoked, LeaseLost, Deferred):
        for failure in failures:
            if isinstance(failure, kind):
                return failure
    return failures[0]


def _is_sqlite(run: Run) -> bool:
    # SQLite has one writer at a time: lanes would only queue for its lock.
    return run.session.get_bind().dialect.name == "sqlite"


async def _pending_by_ticket(run: Run) -> list[list[int]]:
    """The pending entries' ids, grouped by ticket (each group in id order, groups by their first entry)."""
    stmt = (
        select(Entry.id, Entry.ticket, WorklogSyncState.base)
        .join(Project, Project.id == Entry.project_id)
        .outerjoin(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
        .where(
            Entry.user_id == run.link.user_id,
            Entry.sync_state == SyncState.PENDING,
            or_(Project.ticket_system_id == run.system.id, WorklogSyncState.link_id == run.link.id),
        )
        .order_by(Entry.id)
    )
    groups: dict[str, list[int]] = {}
    for entry_id, ticket, base in (await run.session.execute(stmt)).all():
        # An entry moving between tickets writes to the one it leaves first: it goes with that ticket's writes.
        key = ((base or {}).get("ticket") or ticket or "").upper()
        groups.setdefault(key, []).append(entry_id)
    return list(groups.values())


async def push_entry(run: Run, entry_id: int) -> None:
    session = run.session
    entry = await session.get(Entry, entry_id, populate_existing=True)
    if entry is None or entry.sync_state is not SyncState.PENDING:
        return
    state = await session.get(WorklogSyncState, entry.id) or WorklogSyncState(entry_id=entry.id)
    session.add(state)
    try:
        await _push_entry(run, entry, state)
    except (Rejected, NotFound) as exc:
        await _failed(run, entry, state, str(exc))


async def _push_entry(run: Run, entry: Entry, state: WorklogSyncState) -> None:
    project = await run.session.get(Project, entry.project_id)
    wants_remote = (
        entry.deleted_at is None
        and bool(entry.ticket)
        and project is not None
        and project.ticket_system_id == run.system.id
        and run.system.book_time
    )
    has_remote = entry.worklog_id is not None and state.link_id in (None, run.link.id)
    base_ticket = (state.base or {}).get("ticket") or entry.ticket
    version = entry.version
    moves = has_remote and wants_remote and base_ticket != entry.ticket
    can_move = run.connector.supports(Capability.MOVE_WORKLOG)

    if has_remote and (not wants_remote or (moves and not can_move)):
        # Gone, moved to another ticket system, or to another ticket of a tracker whose worklogs cannot move.
        await _delete_remote(run, base_ticket, str(entry.worklog_id), entry.id)
        entry.worklog_id = None
        entry.synced_to_ticketsystem = False
        state.base = None
        state.link_id = None
        has_remote = False
    if has_remote:
        draft = await _draft(run, entry, state)
        await run.session.commit()  # no transaction (on SQLite: the write lock) is held while the tracker answers
        async with run.deps.coordinator.ticket_lock(run.system.id, entry.ticket):
            try:
                remote = await _update(run, str(entry.worklog_id), draft, f"update the worklog of entry {entry.id}")
            except NotFound:
                await _remote_deleted(run, entry, state)
                return
        await _synced(run, entry, state, remote, version, "moved" if moves else "updated")
    elif wants_remote:
        await _create_exactly_once(run, entry, state, version)
    else:
        if state.push_started_at is not None:
            # A create may have reached the tracker before this entry stopped wanting a worklog.
            stray = await run.read(
                lambda c: run.connector.find_worklog_by_marker(c, base_ticket, str(entry.uuid)),
                f"look up entry {entry.id}'s worklog",
            )
            if stray is not None:
                await _delete_remote(run, base_ticket, stray.id, entry.id)
        state.push_started_at = None
        await _settle(run, entry, SyncState.SYNCED if entry.deleted_at else None, version)


async def _create_exactly_once(run: Run, entry: Entry, state: WorklogSyncState, version: int) -> None:
    draft = await _draft(run, entry, state)
    async with run.deps.coordinator.ticket_lock(run.system.id, entry.ticket):
        if state.push_started_at is not None:
            found = await run.read(
                lambda c: run.connector.find_worklog_by_marker(c, entry.ticket, draft.marker),
                f"look up entry {entry.id}'s worklog",
            )
            if found is not None:
                adopted: RemoteWorklog = found
                log.info("adopted a worklog created by an earlier attempt", entry_id=entry.id, worklog=adopted.id)
                if snapshot.changed_fields(snapshot.of_remote(adopted), snapshot.of_entry(entry)):
                    adopted = await _update(run, adopted.id, draft, f"update entry {entry.id}'s adopted worklog")
                await _synced(run, entry, state, adopted, version, "adopted")
                return
        if run.lease is not None:
            run.lease.ensure_held()
        state.push_started_at = run.deps.clock()
        state.link_id = run.link.id
        await run.session.commit()  # the attempt is on record before the tracker hears of it
        remote = await _create(run, draft, f"create the worklog of entry {entry.id}")
    await _synced(run, entry, state, remote, version, "created")


async def _create(run: Run, draft: WorklogDraft, what: str) -> RemoteWorklog:
    if run.dry_run:
        return _as_written(f"new:{draft.marker}", draft, run.deps.clock())
    return await run.write(lambda c: run.connector.create_worklog(c, draft), what)


async def _update(run: Run, worklog_id: str, draft: WorklogDraft, what: str) -> RemoteWorklog:
    if run.dry_run:
        return _as_written(worklog_id, draft, run.deps.clock())
    return await run.write(lambda c: run.connector.update_worklog(c, worklog_id, draft), what)


async def _delete_remote(run: Run, ticket: str, worklog_id: str, entry_id: int) -> None:
    if not run.dry_run:
        async with run.deps.coordinator.ticket_lock(run.system.id, ticket):
            await run.write(lambda c: run.connector.delete_worklog(c, ticket, worklog_id), "delete a worklog")
    run.report.note("deleted", entry_id, ticket, worklog_id)


async def _draft(run: Run, entry: Entry, state: WorklogSyncState) -> WorklogDraft:
    activity = await run.session.get(Activity, entry.activity_id)
    name = activity.name if activity is not None else None
    if state.base is not None and state.base.get("local_activity", name) == name:
        # The gateway's activity did not change since the last sync (or a base from before activities were kept
        # says nothing of it): the update leaves the tracker's own as it is — a "Design" made in Redmine must not
        # become the gateway's "Development" because the description was edited here.
        name = None
    return WorklogDraft(
        marker=str(entry.uuid),
        ticket=entry.ticket,
        day=entry.day,
        start=entry.start,
        minutes=entry.duration,
        description=entry.description,
        activity=name,
        ticket_id=snapshot.ticket_id_for(entry.ticket, state.base),
    )


async def _synced(
    run: Run, entry: Entry, state: WorklogSyncState, remote: RemoteWorklog, version: int, action: str
) -> None:
    activity = await run.session.get(Activity, entry.activity_id)
    state.base = snapshot.base_of(remote, entry.ticket, activity.name if activity is not None else None)
    state.remote_updated_at = remote.updated_at
    state.push_started_at = None
    state.link_id = run.link.id
    state.conflict_remote = None
    entry.worklog_id = remote.id
    entry.synced_to_ticketsystem = True
    entry.sync_error = None
    run.report.note(action, entry.id, entry.ticket, remote.id)
    await _settle(run, entry, SyncState.SYNCED, version)


async def _failed(run: Run, entry: Entry, state: WorklogSyncState, reason: str) -> None:
    # A refused create made nothing remotely: the next attempt need not look for it.
    state.push_started_at = None
    entry.sync_error = reason
    entry.sync_attempts += 1
    run.report.note("failed", entry.id, entry.ticket, entry.worklog_id, reason)
    await _settle(run, entry, SyncState.FAILED, entry.version)


async def remote_deleted(run: Run, entry: Entry, state: WorklogSyncState) -> None:
    run.report.note("remote_deleted", entry.id, entry.ticket, entry.worklog_id)
    state.base = None
    entry.worklog_id = None
    entry.synced_to_ticketsystem = False
    await _settle(run, entry, SyncState.REMOTE_DELETED, entry.version)


_remote_deleted = remote_deleted


async def _settle(run: Run, entry: Entry, new_state: SyncState | None, version: int) -> None:
    """Store the outcome; if the user changed the entry meanwhile (its version moved on) it stays pending.

    The flush writes only the columns the push changed; the UPDATE after it, in the same transaction, puts the
    entry back to pending when its version is no longer the one pushed — whichever of the user's change and
    this write came first, the entry ends pending."""
    entry.sync_state = new_state
    await run.session.flush()
    await run.session.execute(
        update(Entry)
        .where(Entry.id == entry.id, Entry.version != version)
        .values(sync_state=SyncState.PENDING)
        .execution_options(synchronize_session=False)
    )
    await run.session.commit()


def _as_written(worklog_id: str, draft: WorklogDraft, now: datetime) -> RemoteWorklog:
    """What a dry run takes the tracker to answer a write with: the draft as sent."""
    return RemoteWorklog(
        id=worklog_id, ticket=draft.ticket, day=draft.day, start=draft.start, minutes=draft.minutes,
        description=draft.description, updated_at=now, marker=draft.marker, activity=draft.activity,
    )  # fmt: skip
