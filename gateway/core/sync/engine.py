"""Syncing one link: pull the tracker's changes, then push the user's pending entries.

Rules that hold whatever happens:
- One sync per link at a time: a lease on the link row, taken with a conditional UPDATE, across processes.
- No lost time: entries are committed before any remote call; a remote failure never rolls an entry back.
  Transient failures and rate limits defer the whole run (`Deferred`); a refused worklog marks only its entry
  `failed` with the tracker's reason.
- No duplicate worklogs: before a remote create the attempt is committed; a later attempt first looks the
  worklog up by its marker (the entry's uuid) and adopts it.
- Writes to one ticket are serialised across workers, and every request takes from the system's budget.
- Pulled changes are applied only after a complete read (all pages); deletions only when the tracker reports
  them, never because a worklog is missing from a read.

A dry run (`dry_run=True`, used by `sync.preview`) goes through the same steps with the tracker's writes left
out: its worklog creates, updates and deletes are recorded instead of sent, no token is refreshed, no lease or run
is recorded, and the caller rolls back the one transaction everything happened in.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any, TypeVar

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.connectors import (
    AuthExpired,
    AuthRevoked,
    Connector,
    Credentials,
    NotFound,
    PullPage,
    RateLimited,
    Rejected,
    RemoteWorklog,
    Transient,
    WorklogDraft,
)
from gateway.core.commit_events import record_entry_change, record_link_change
from gateway.core.entries import reclassify_day
from gateway.core.entry_rules import check_entry
from gateway.core.enums import SyncState
from gateway.core.errors import Conflict, GatewayError, reason_of
from gateway.core.link_tokens import usable_credentials
from gateway.core.links import ConnectorRuntime, build_connector
from gateway.core.logs import get_logger
from gateway.core.models import (
    Activity,
    Entry,
    Link,
    Project,
    SyncRun,
    TicketSystem,
    UnmappedWorklog,
    User,
    WorklogSyncState,
)
from gateway.core.revisions import audited_values, record_revision
from gateway.core.secrets_at_rest import open_credentials
from gateway.core.sync import snapshot
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.reconcile import Outcome, reconcile
from gateway.core.tickets import PREFIXED_KEY

log = get_logger("gateway.sync")
_NEEDS_REFRESH = "the link's access token has expired; the next sync refreshes it first, preview after that"
T = TypeVar("T")
DEFAULT_IMPORT_START = time(9, 0)
# A run that finds new sync requests made while it ran goes round again, this many times at most.
MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """One thing a run did (or, in a dry run, would do)."""

    action: str
    entry_id: int | None
    ticket: str
    worklog_id: str | None = None
    detail: str | None = None


# What each action counts as in the report.
_COUNTED: dict[str, tuple[str, ...]] = {
    "created": ("created", "pushed"),
    "updated": ("updated", "pushed"),
    "adopted": ("adopted", "pushed"),
    "deleted": ("deleted",),
    "failed": ("failed",),
    "imported": ("imported",),
    "unmapped": ("unmapped",),
    "taken": ("taken",),
    "conflict": ("conflicts",),
    "remote_deleted": ("remote_deleted",),
}


@dataclass
class SyncReport:
    link_id: int
    skipped: str | None = None
    # Set when another runner holds the link: until when its lease lasts.
    busy_until: datetime | None = None
    # Worklogs written to the tracker (created, updated, adopted after a lost answer), and deleted there.
    pushed: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    deleted: int = 0
    # Worklogs read from the tracker, entries made from them, entries that took the tracker's changes.
    pulled: int = 0
    imported: int = 0
    taken: int = 0
    failed: int = 0
    conflicts: int = 0
    remote_deleted: int = 0
    unmapped: int = 0
    events: list[SyncEvent] = field(default_factory=list)
    # A sync was asked for after the last round had started: the run may have missed it, so it runs again.
    requested_again: bool = False

    def note(
        self, action: str, entry_id: int | None, ticket: str, worklog_id: str | None = None, detail: str | None = None
    ) -> None:
        self.events.append(SyncEvent(action, entry_id, ticket, worklog_id, detail))
        for counter in _COUNTED[action]:
            setattr(self, counter, getattr(self, counter) + 1)


class PreviewUnavailable(Conflict):
    """A dry run cannot go on without writing: the link's token must be refreshed first."""


@dataclass
class SyncDeps:
    """What a sync needs from the process that runs it."""

    session_factory: async_sessionmaker[AsyncSession]
    runtime: ConnectorRuntime
    coordinator: Coordinator
    lease_seconds: float = 600
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


async def sync_link(
    deps: SyncDeps, link_id: int, *, push: bool = True, pull: bool = True, dry_run: bool = False
) -> SyncReport:
    """Sync one link; returns what was done, raises `Deferred` when the run must be retried later."""
    report = SyncReport(link_id=link_id)
    async with deps.session_factory() as session:
        found = await _link_and_system(session, link_id)
        if found is None:
            report.skipped = "the link or its ticket system is gone, disabled, or not connected"
            return report
        link, system = found
        user_id, system_id = link.user_id, link.ticket_system_id
        try:
            connector = build_connector(system, deps.runtime)
        except GatewayError as exc:
            if not dry_run:
                link.last_error = str(exc)
                await session.commit()
            report.skipped = str(exc)
            return report
        if dry_run:
            # Nothing is stored, so nothing needs guarding against a second runner.
            syncer = _LinkSync(deps, session, link, system, connector, report, dry_run=True)
            try:
                await syncer.start()
                if pull:
                    await syncer.pull()
                if push:
                    await syncer.push()
            except AuthRevoked as exc:
                report.skipped = f"reconnect needed: {exc}"
            return report
        owner = secrets.token_hex(8)
        if not await _take_lease(session, link_id, owner, deps):
            report.skipped = "another worker is syncing this link"
            await session.refresh(link)
            report.busy_until = link.sync_lease_until
            return report
        run = SyncRun(link_id=link_id, started_at=deps.clock())
        session.add(run)
        record_link_change(session, user_id, system_id)  # pages show the sync running
        await session.commit()

        syncer = _LinkSync(deps, session, link, system, connector, report)
        error: str | None = None
        round_started = deps.clock()
        try:
            for _ in range(MAX_ROUNDS):
                round_started = deps.clock()
                await syncer.start()
                # Pull first: a local change is pushed only after the tracker's changes since the last sync were
                # compared with it, so a change made there is never silently overwritten.
                if pull:
                    await syncer.pull()
                if push:
                    await syncer.push()
                await session.refresh(link)
                if link.sync_requested_at is None or link.sync_requested_at < round_started:
                    break
        except Deferred as exc:
            error = f"deferred: {exc}"
            raise
        except AuthRevoked as exc:
            error = f"reconnect needed: {exc}"
            report.skipped = error
        except Exception as exc:
            # A pull the tracker refused (Rejected, NotFound), or a connector's bug: the run is recorded as failed,
            # not as a sync, and the job reports the error.
            error = f"failed: {reason_of(exc)}"
            raise
        finally:
            await session.rollback()
            record_link_change(session, user_id, system_id)
            await _finish(session, run, link_id, owner, report, error, deps, as_of=round_started)
    return report


# --- The run ----------------------------------------------------------------------------------------------------


class _LinkSync:
    def __init__(
        self,
        deps: SyncDeps,
        session: AsyncSession,
        link: Link,
        system: TicketSystem,
        connector: Connector[Any],
        report: SyncReport,
        *,
        dry_run: bool = False,
    ) -> None:
        self.deps = deps
        self.dry_run = dry_run
        self.session = session
        self.link = link
        self.system = system
        self.connector = connector
        self.report = report
        self.credentials: Credentials | None = None
        self.source = f"sync:{system.name}"

    async def start(self) -> None:
        if self.dry_run:
            # A refresh rotates tokens at the tracker: a dry run uses what is stored, or stops.
            self.credentials = open_credentials(self.link, self.deps.runtime.key_ring)
            expires = self.credentials.expires_at if self.credentials else None
            if self.credentials is None or (expires is not None and expires <= self.deps.clock()):
                raise PreviewUnavailable(_NEEDS_REFRESH)
            return
        self.credentials = await usable_credentials(
            self.deps.session_factory, self.link.id, self.connector, self.deps.runtime.key_ring, now=self.deps.clock()
        )

    async def call(self, make: Callable[[Credentials], Awaitable[T]], what: str) -> T:
        """One tracker request: within the budget, refreshing once on an expired token, errors made typed."""
        assert self.credentials is not None
        for attempt in (1, 2):
            await self.deps.coordinator.take_budget(self.system.id)
            try:
                return await make(self.credentials)
            except AuthExpired:
                if self.dry_run:
                    raise PreviewUnavailable(_NEEDS_REFRESH) from None
                if attempt == 2:
                    raise AuthRevoked(f"{what}: the tracker refuses even fresh credentials") from None
                self.credentials = await usable_credentials(
                    self.deps.session_factory,
                    self.link.id,
                    self.connector,
                    self.deps.runtime.key_ring,
                    now=self.deps.clock(),
                    rejected_token=self.credentials.access_token,
                )
            except RateLimited as exc:
                raise Deferred(f"{what}: {exc}", exc.retry_after) from None
            except Transient as exc:
                raise Deferred(f"{what}: {exc}") from None
        raise AssertionError("unreachable")

    # Push ------------------------------------------------------------------------------------------------------

    async def push(self) -> None:
        for entry_id in await self._pending_entry_ids():
            entry = await self.session.get(Entry, entry_id, populate_existing=True)
            if entry is None or entry.sync_state is not SyncState.PENDING:
                continue
            state = await self.session.get(WorklogSyncState, entry.id) or WorklogSyncState(entry_id=entry.id)
            self.session.add(state)
            try:
                await self._push_entry(entry, state)
            except (Rejected, NotFound) as exc:
                await self._failed(entry, state, str(exc))

    async def _pending_entry_ids(self) -> list[int]:
        stmt = (
            select(Entry.id)
            .join(Project, Project.id == Entry.project_id)
            .outerjoin(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
            .where(
                Entry.user_id == self.link.user_id,
                Entry.sync_state == SyncState.PENDING,
                or_(Project.ticket_system_id == self.system.id, WorklogSyncState.link_id == self.link.id),
            )
            .order_by(Entry.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def _push_entry(self, entry: Entry, state: WorklogSyncState) -> None:
        project = await self.session.get(Project, entry.project_id)
        wants_remote = (
            entry.deleted_at is None
            and bool(entry.ticket)
            and project is not None
            and project.ticket_system_id == self.system.id
            and self.system.book_time
        )
        has_remote = entry.worklog_id is not None and state.link_id in (None, self.link.id)
        base_ticket = (state.base or {}).get("ticket") or entry.ticket
        version = entry.version

        if has_remote and (not wants_remote or base_ticket != entry.ticket):
            # Gone, moved to another ticket system, or moved to another ticket (worklogs cannot change tickets).
            await self._delete_remote(base_ticket, str(entry.worklog_id), entry.id)
            entry.worklog_id = None
            entry.synced_to_ticketsystem = False
            state.base = None
            state.link_id = None
            has_remote = False
        if has_remote:
            draft = await self._draft(entry)
            async with self.deps.coordinator.ticket_lock(self.system.id, entry.ticket):
                try:
                    remote = await self._update(str(entry.worklog_id), draft, f"update the worklog of entry {entry.id}")
                except NotFound:
                    await self._remote_deleted(entry, state)
                    return
            await self._synced(entry, state, remote, version, "updated")
        elif wants_remote:
            await self._create_exactly_once(entry, state, version)
        else:
            if state.push_started_at is not None:
                # A create may have reached the tracker before this entry stopped wanting a worklog.
                stray = await self.call(
                    lambda c: self.connector.find_worklog_by_marker(c, base_ticket, str(entry.uuid)),
                    f"look up entry {entry.id}'s worklog",
                )
                if stray is not None:
                    await self._delete_remote(base_ticket, stray.id, entry.id)
            state.push_started_at = None
            await self._settle(entry, SyncState.SYNCED if entry.deleted_at else None, version)

    async def _create_exactly_once(self, entry: Entry, state: WorklogSyncState, version: int) -> None:
        draft = await self._draft(entry)
        async with self.deps.coordinator.ticket_lock(self.system.id, entry.ticket):
            if state.push_started_at is not None:
                found = await self.call(
                    lambda c: self.connector.find_worklog_by_marker(c, entry.ticket, draft.marker),
                    f"look up entry {entry.id}'s worklog",
                )
                if found is not None:
                    adopted: RemoteWorklog = found
                    log.info("adopted a worklog created by an earlier attempt", entry_id=entry.id, worklog=adopted.id)
                    if snapshot.changed_fields(snapshot.of_remote(adopted), snapshot.of_entry(entry)):
                        adopted = await self._update(adopted.id, draft, f"update entry {entry.id}'s adopted worklog")
                    await self._synced(entry, state, adopted, version, "adopted")
                    return
            state.push_started_at = self.deps.clock()
            state.link_id = self.link.id
            await self.session.commit()  # the attempt is on record before the tracker hears of it
            remote = await self._create(draft, f"create the worklog of entry {entry.id}")
        await self._synced(entry, state, remote, version, "created")

    async def _create(self, draft: WorklogDraft, what: str) -> RemoteWorklog:
        if self.dry_run:
            return _as_written(f"new:{draft.marker}", draft, self.deps.clock())
        return await self.call(lambda c: self.connector.create_worklog(c, draft), what)

    async def _update(self, worklog_id: str, draft: WorklogDraft, what: str) -> RemoteWorklog:
        if self.dry_run:
            return _as_written(worklog_id, draft, self.deps.clock())
        return await self.call(lambda c: self.connector.update_worklog(c, worklog_id, draft), what)

    async def _delete_remote(self, ticket: str, worklog_id: str, entry_id: int) -> None:
        if not self.dry_run:
            async with self.deps.coordinator.ticket_lock(self.system.id, ticket):
                await self.call(lambda c: self.connector.delete_worklog(c, ticket, worklog_id), "delete a worklog")
        self.report.note("deleted", entry_id, ticket, worklog_id)

    async def _draft(self, entry: Entry) -> WorklogDraft:
        activity = await self.session.get(Activity, entry.activity_id)
        return WorklogDraft(
            marker=str(entry.uuid),
            ticket=entry.ticket,
            day=entry.day,
            start=entry.start,
            minutes=entry.duration,
            description=entry.description,
            activity=activity.name if activity is not None else None,
        )

    async def _synced(
        self, entry: Entry, state: WorklogSyncState, remote: RemoteWorklog, version: int, action: str
    ) -> None:
        state.base = dict(snapshot.of_remote(remote, entry.ticket))
        state.remote_updated_at = remote.updated_at
        state.push_started_at = None
        state.link_id = self.link.id
        state.conflict_remote = None
        entry.worklog_id = remote.id
        entry.synced_to_ticketsystem = True
        entry.sync_error = None
        self.report.note(action, entry.id, entry.ticket, remote.id)
        await self._settle(entry, SyncState.SYNCED, version)

    async def _failed(self, entry: Entry, state: WorklogSyncState, reason: str) -> None:
        # A refused create made nothing remotely: the next attempt need not look for it.
        state.push_started_at = None
        entry.sync_error = reason
        entry.sync_attempts += 1
        self.report.note("failed", entry.id, entry.ticket, entry.worklog_id, reason)
        await self._settle(entry, SyncState.FAILED, entry.version)

    async def _remote_deleted(self, entry: Entry, state: WorklogSyncState) -> None:
        self.report.note("remote_deleted", entry.id, entry.ticket, entry.worklog_id)
        state.base = None
        entry.worklog_id = None
        entry.synced_to_ticketsystem = False
        await self._settle(entry, SyncState.REMOTE_DELETED, entry.version)

    async def _settle(self, entry: Entry, new_state: SyncState | None, version: int) -> None:
        """Store the outcome; if the user changed the entry meanwhile it stays pending for the next push."""
        await self.session.execute(select(User.id).where(User.id == entry.user_id).with_for_update())
        current = await self.session.scalar(select(Entry.version).where(Entry.id == entry.id))
        entry.sync_state = new_state if current == version else SyncState.PENDING
        await self.session.commit()

    # Pull ------------------------------------------------------------------------------------------------------

    async def pull(self) -> None:
        worklogs: list[RemoteWorklog] = []
        deleted: list[str] = []
        page: str | None = None
        cursor = self.link.sync_cursor
        while True:
            result = await self.call(partial(self._read_page, cursor=cursor, page=page), "read changed worklogs")
            worklogs += result.worklogs
            deleted += result.deleted_ids
            if result.next_page is None:
                break
            page = result.next_page
        # The read is complete: only now is anything applied, and the cursor moved.
        account = self.link.remote_account_id
        mine = [w for w in worklogs if account is None or w.author_id is None or w.author_id == account]
        for worklog in mine:
            await self._reconcile(worklog)
        seen = {worklog.id for worklog in worklogs}
        for worklog_id in deleted:
            if worklog_id not in seen:
                await self._deleted_remotely(worklog_id)
        await self._retry_unmapped()
        self.link.sync_cursor = result.cursor or self.link.sync_cursor
        await self.session.commit()

    async def _read_page(self, credentials: Credentials, *, cursor: str | None, page: str | None) -> PullPage:
        return await self.connector.pull_worklogs(credentials, cursor, page)

    async def _reconcile(self, remote: RemoteWorklog) -> None:
        self.report.pulled += 1
        entry = await self._entry_of(remote)
        if entry is None:
            await self._import(remote)
            return
        if entry.deleted_at is not None:
            return  # a pending delete will remove it remotely
        state = await self.session.get(WorklogSyncState, entry.id) or WorklogSyncState(entry_id=entry.id)
        self.session.add(state)
        remote_snapshot = snapshot.of_remote(remote)
        if entry.worklog_id != remote.id:
            # Ours, found by its marker (a create whose answer was lost, or a worklog the tracker moved): what
            # the tracker holds is what we wrote, so it is the base, and any later local edit is a local change.
            entry.worklog_id = remote.id
            entry.synced_to_ticketsystem = True
            state.link_id = self.link.id
            state.push_started_at = None
            state.base = dict(remote_snapshot)
        if entry.sync_state is SyncState.CONFLICT:
            state.conflict_remote = {**remote_snapshot, "id": remote.id}
            await self.session.commit()
            return
        decision = reconcile(snapshot.of_entry(entry), remote_snapshot, state.base)
        if decision.outcome is Outcome.CONFLICT:
            state.conflict_remote = {**remote_snapshot, "id": remote.id}
            state.remote_updated_at = remote.updated_at
            entry.sync_state = SyncState.CONFLICT
            entry.sync_error = f"changed here and in {self.system.name}: {', '.join(sorted(decision.clashing))}"
            self.report.note("conflict", entry.id, entry.ticket, remote.id, ", ".join(sorted(decision.clashing)))
        elif decision.outcome in (Outcome.TAKE_REMOTE, Outcome.MERGE):
            self.report.note("taken", entry.id, entry.ticket, remote.id, ", ".join(sorted(decision.take)))
            await self.apply_remote(entry, remote_snapshot, decision.take)
            if decision.outcome is Outcome.TAKE_REMOTE and entry.sync_state is not SyncState.PENDING:
                entry.sync_state = SyncState.SYNCED
            else:
                entry.sync_state = SyncState.PENDING
        if decision.outcome is not Outcome.CONFLICT:
            state.base = dict(remote_snapshot)
            state.remote_updated_at = remote.updated_at
        await self.session.commit()

    async def apply_remote(self, entry: Entry, remote: snapshot.Snapshot, fields: frozenset[str]) -> None:
        """Copy the tracker's values of `fields` into the entry, with a revision naming the tracker."""
        await self.session.execute(select(User.id).where(User.id == entry.user_id).with_for_update())
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
        if {"start", "minutes"} & fields:
            end = end_of(entry.start, remote["minutes"] if "minutes" in fields else entry.duration)
            if end is None:
                raise Rejected(f"the tracker's worklog for entry {entry.id} would run past midnight")
            entry.end = end
            entry.duration = remote["minutes"] if "minutes" in fields else entry.duration
        entry.version += 1
        await self.session.flush()
        for day in {old_day, entry.day}:
            await reclassify_day(self.session, entry.user_id, day)
        await record_revision(
            self.session, entry, author_id=None, source=self.source, action="update", before=before,
            after=audited_values(entry),
        )  # fmt: skip
        record_entry_change(self.session, entry, "update")

    async def _entry_of(self, remote: RemoteWorklog) -> Entry | None:
        by_id = await self.session.scalar(
            select(Entry)
            .outerjoin(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
            .join(Project, Project.id == Entry.project_id)
            .where(
                Entry.user_id == self.link.user_id,
                Entry.worklog_id == remote.id,
                or_(WorklogSyncState.link_id == self.link.id, Project.ticket_system_id == self.system.id),
            )
        )
        if by_id is not None or not remote.marker:
            return by_id
        return await self.session.scalar(
            select(Entry).where(Entry.user_id == self.link.user_id, Entry.uuid == _uuid_or_none(remote.marker))
        )

    async def _deleted_remotely(self, worklog_id: str) -> None:
        await self.session.execute(
            UnmappedWorklog.__table__.delete().where(  # type: ignore[attr-defined]
                UnmappedWorklog.link_id == self.link.id, UnmappedWorklog.worklog_id == worklog_id
            )
        )
        entry = await self.session.scalar(
            select(Entry)
            .join(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
            .where(Entry.worklog_id == worklog_id, WorklogSyncState.link_id == self.link.id)
        )
        if entry is None or entry.deleted_at is not None:
            return
        state = await self.session.get(WorklogSyncState, entry.id)
        assert state is not None
        await record_revision(
            self.session, entry, author_id=None, source=self.source, action="remote_delete",
            before={"worklog_id": worklog_id}, after={},
        )  # fmt: skip
        await self._remote_deleted(entry, state)

    # Import ----------------------------------------------------------------------------------------------------

    async def _import(self, remote: RemoteWorklog) -> None:
        reason = await self._try_import(remote)
        existing = await self.session.scalar(
            select(UnmappedWorklog).where(
                UnmappedWorklog.link_id == self.link.id, UnmappedWorklog.worklog_id == remote.id
            )
        )
        if reason is None:
            if existing is not None:
                await self.session.delete(existing)
            self.report.note("imported", None, remote.ticket, remote.id)
        else:
            parked = existing or UnmappedWorklog(link_id=self.link.id, worklog_id=remote.id)
            parked.ticket = remote.ticket
            parked.worklog = msgspec.to_builtins(remote)
            parked.reason = reason
            parked.seen_at = self.deps.clock()
            self.session.add(parked)
            self.report.note("unmapped", None, remote.ticket, remote.id, reason)
        await self.session.commit()

    async def _try_import(self, remote: RemoteWorklog) -> str | None:
        """Book a worklog made in the tracker as an entry, already synced; the reason when it cannot be."""
        ticket = remote.ticket.strip().upper()
        projects = await self._projects_taking(ticket)
        if len(projects) != 1:
            return (
                f"no project of {self.system.name} takes ticket {ticket}"
                if not projects
                else f"several projects take ticket {ticket}: {', '.join(p.name for p in projects)}"
            )
        if self.system.import_activity_id is None:
            return f"{self.system.name} has no activity set for imported worklogs (import_activity_id)"
        start = remote.start or DEFAULT_IMPORT_START
        end = end_of(start, remote.minutes)
        if end is None or remote.minutes <= 0:
            return f"{remote.minutes} minutes from {start:%H:%M} do not fit in one day"
        user = await self.session.scalar(select(User).where(User.id == self.link.user_id).with_for_update())
        assert user is not None
        values: dict[str, Any] = {
            "day": remote.day, "start": start, "end": end, "project_id": projects[0].id,
            "activity_id": self.system.import_activity_id, "customer_id": None, "account_id": None,
            "ticket": ticket, "description": remote.description,
        }  # fmt: skip
        try:
            checked = await check_entry(self.session, user, values, project_changed=True)
        except GatewayError as exc:
            return str(exc)
        entry = Entry(
            user_id=user.id,
            **checked.values,
            worklog_id=remote.id,
            synced_to_ticketsystem=True,
            sync_state=SyncState.SYNCED,
        )
        self.session.add(entry)
        await self.session.flush()
        self.session.add(
            WorklogSyncState(
                entry_id=entry.id,
                link_id=self.link.id,
                base=dict(snapshot.of_remote(remote)),
                remote_updated_at=remote.updated_at,
            )
        )
        await reclassify_day(self.session, user.id, entry.day)
        await record_revision(
            self.session, entry, author_id=None, source=self.source, action="import", before={},
            after=audited_values(entry),
        )  # fmt: skip
        record_entry_change(self.session, entry, "create")
        return None

    async def _projects_taking(self, ticket: str) -> list[Project]:
        projects = (
            await self.session.scalars(
                select(Project).where(
                    Project.ticket_system_id == self.system.id, Project.deleted_at.is_(None), Project.active.is_(True)
                )
            )
        ).all()
        prefix = match.group(1) if (match := PREFIXED_KEY.match(ticket)) else None
        taking = [p for p in projects if ticket in p.subtickets or (prefix and prefix in p.ticket_prefixes)]
        if not taking:
            # A tracker without key prefixes (Redmine numbers): a project with no prefixes takes any ticket.
            taking = [p for p in projects if not p.ticket_prefixes and not p.subtickets]
        return taking

    async def _retry_unmapped(self) -> None:
        parked = (
            await self.session.scalars(select(UnmappedWorklog).where(UnmappedWorklog.link_id == self.link.id))
        ).all()
        for row in parked:
            remote = msgspec.convert({**row.worklog, "id": row.worklog_id}, RemoteWorklog, strict=False)
            if await self._try_import(remote) is None:
                await self.session.delete(row)
                self.report.note("imported", None, remote.ticket, remote.id)
                self.report.unmapped = max(0, self.report.unmapped - 1)
        await self.session.commit()


# --- Leases and bookkeeping -------------------------------------------------------------------------------------


async def _link_and_system(session: AsyncSession, link_id: int) -> tuple[Link, TicketSystem] | None:
    row = (
        await session.execute(
            select(Link, TicketSystem)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .where(
                Link.id == link_id,
                Link.enabled.is_(True),
                Link.needs_reconnect.is_(False),
                Link.access_token.is_not(None),
                TicketSystem.enabled.is_(True),
                TicketSystem.deleted_at.is_(None),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def _take_lease(session: AsyncSession, link_id: int, owner: str, deps: SyncDeps) -> bool:
    now = deps.clock()
    result = await session.execute(
        update(Link)
        .where(
            Link.id == link_id,
            or_(Link.sync_lease_until.is_(None), Link.sync_lease_until < now),
        )
        .values(sync_lease_owner=owner, sync_lease_until=now + timedelta(seconds=deps.lease_seconds))
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _finish(
    session: AsyncSession,
    run: SyncRun,
    link_id: int,
    owner: str,
    report: SyncReport,
    error: str | None,
    deps: SyncDeps,
    *,
    as_of: datetime,
) -> None:
    """Close the run and release the lease. The link counts as synced as of the last round's start: a request
    made after that may have come too late for the round, so it stays outstanding (the sweep sees it) and the
    run's job goes again at once (`requested_again`) — the request's own job was absorbed by this running one."""
    run.finished_at = deps.clock()
    run.pushed, run.pulled, run.failed, run.conflicts = report.pushed, report.pulled, report.failed, report.conflicts
    run.error = error
    session.add(run)
    values: dict[str, Any] = {"sync_lease_owner": None, "sync_lease_until": None, "last_error": error}
    if error is None:
        values["last_sync_at"] = as_of
    requested = await session.scalar(
        update(Link)
        .where(Link.id == link_id, Link.sync_lease_owner == owner)
        .values(**values)
        .returning(Link.sync_requested_at)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    report.requested_again = error is None and requested is not None and requested >= as_of


def _as_written(worklog_id: str, draft: WorklogDraft, now: datetime) -> RemoteWorklog:
    """What a dry run takes the tracker to answer a write with: the draft as sent."""
    return RemoteWorklog(
        id=worklog_id, ticket=draft.ticket, day=draft.day, start=draft.start, minutes=draft.minutes,
        description=draft.description, updated_at=now, marker=draft.marker,
    )  # fmt: skip


def end_of(start: time, minutes: int) -> time | None:
    total = start.hour * 60 + start.minute + minutes
    return time(total // 60, total % 60) if minutes > 0 and total < 24 * 60 else None


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
