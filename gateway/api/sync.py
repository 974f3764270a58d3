"""Sync status, running a sync now, and settling conflicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody

from gateway.api.dependencies import CurrentCaller, DbSession, SyncMachinery
from gateway.api.entries import EntryOut, entry_out
from gateway.api.openapi import problems
from gateway.api.parameters import RowId
from gateway.core.links import my_link
from gateway.core.sync import conflicts, status
from gateway.core.sync.conflicts import Keep
from gateway.core.sync.engine import SyncReport
from gateway.core.sync.preview import VERBS, preview_my_link
from gateway.core.sync.status import LinkSyncStatus
from gateway.core.sync_requests import request_sync


class RunOut(msgspec.Struct, kw_only=True):
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    pushed: int
    pulled: int
    failed: int
    conflicts: int
    error: str | None


class LinkSyncOut(msgspec.Struct, kw_only=True):
    user: str
    ticket_system_id: int
    ticket_system: str
    # False: the system does not book time, so a sync pushes nothing (it still pulls and checks tickets).
    book_time: bool
    enabled: bool
    running: bool
    last_run: RunOut | None
    last_sync_at: datetime | None
    next_run: datetime | None
    last_error: str | None
    pending: int
    failed: int
    conflicts: int


class ConflictOut(msgspec.Struct, kw_only=True):
    entry_id: int
    local: dict[str, Any]
    remote: dict[str, Any]


class Resolve(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    keep: Keep


class Queued(msgspec.Struct, kw_only=True):
    status: str


class PlannedChange(msgspec.Struct, kw_only=True):
    """One thing the next sync would do. `action`: create, update, adopt (a worklog found by its marker) or delete
    a worklog in the tracker; import a worklog as an entry, or park it (no project takes it); take_remote (the
    entry follows the tracker), conflict, mark_remote_deleted."""

    action: str
    entry_id: int | None
    ticket: str
    worklog_id: str | None
    detail: str | None


class SyncPreviewOut(msgspec.Struct, kw_only=True):
    """What the next sync of the link would do now; nothing was written. `skipped` says why it would do nothing."""

    ticket_system_id: int
    skipped: str | None
    counts: dict[str, int]
    changes: list[PlannedChange]


def preview_out(system_id: int, report: SyncReport) -> SyncPreviewOut:
    changes = [
        PlannedChange(
            action=VERBS[event.action],
            entry_id=event.entry_id,
            ticket=event.ticket,
            # A worklog the sync would create has no id yet.
            worklog_id=None if event.action == "created" else event.worklog_id,
            detail=event.detail,
        )
        for event in report.events
    ]
    counts = dict.fromkeys(sorted(set(VERBS.values()) - {"fail"}), 0)
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    return SyncPreviewOut(ticket_system_id=system_id, skipped=report.skipped, counts=counts, changes=changes)


def link_sync_out(item: LinkSyncStatus) -> LinkSyncOut:
    run = item.last_run
    return LinkSyncOut(
        user=item.username,
        ticket_system_id=item.system.id,
        ticket_system=item.system.name,
        book_time=item.system.book_time,
        enabled=item.link.enabled,
        running=item.running,
        last_run=None
        if run is None
        else RunOut(
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_seconds=(run.finished_at - run.started_at).total_seconds() if run.finished_at else None,
            pushed=run.pushed,
            pulled=run.pulled,
            failed=run.failed,
            conflicts=run.conflicts,
            error=run.error,
        ),
        last_sync_at=item.link.last_sync_at,
        next_run=item.next_run,
        last_error=item.link.last_error,
        pending=item.pending,
        failed=item.failed,
        conflicts=item.conflicts,
    )


class SyncController(Controller):
    tags = ["sync"]

    @get("/api/me/sync", summary="The caller's links: last run, duration, counts, next run, last error")
    async def my_sync(self, caller: CurrentCaller, db_session: DbSession) -> list[LinkSyncOut]:
        return [link_sync_out(item) for item in await status.my_sync_status(db_session, caller)]

    @get("/api/admin/sync", summary="Every enabled link's sync (ADMIN)", responses=problems(403))
    async def all_sync(self, caller: CurrentCaller, db_session: DbSession) -> list[LinkSyncOut]:
        return [link_sync_out(item) for item in await status.all_sync_status(db_session, caller)]

    @post("/api/me/ticket-systems/{system_id:int}/sync", summary="Sync this link now", status_code=202)
    async def sync_now(self, caller: CurrentCaller, db_session: DbSession, system_id: RowId) -> Queued:
        link, _system = await my_link(db_session, caller, system_id)
        await request_sync(db_session, [link.id], now=datetime.now(UTC))
        return Queued(status="queued")

    @get(
        "/api/me/ticket-systems/{system_id:int}/sync/preview",
        summary="What the next sync of this link would create, change, delete or import; nothing is written",
        description=(
            "Runs the sync as a dry run: the tracker is read (changes since the last sync, lookups by marker) but "
            "not written, no token is refreshed, and nothing is stored. A worklog the tracker would refuse shows "
            "as a create or update here and fails in the sync."
        ),
        responses=problems(409, 502),
    )
    async def preview(
        self, caller: CurrentCaller, db_session: DbSession, sync_deps: SyncMachinery, system_id: RowId
    ) -> SyncPreviewOut:
        report = await preview_my_link(db_session, caller, system_id, sync_deps)
        return preview_out(system_id, report)

    @get("/api/me/sync/conflicts", summary="Entries changed both here and in the tracker, with both versions")
    async def list_conflicts(self, caller: CurrentCaller, db_session: DbSession) -> list[ConflictOut]:
        return [
            ConflictOut(entry_id=c.entry.id, local=dict(c.local), remote=c.remote)
            for c in await conflicts.my_conflicts(db_session, caller)
        ]

    @post(
        "/api/me/sync/conflicts/{entry_id:int}",
        summary="Settle a conflict: keep local or keep remote",
        status_code=200,
        responses=problems(422),
    )
    async def resolve(
        self, caller: CurrentCaller, db_session: DbSession, entry_id: RowId, data: JSONBody[Resolve]
    ) -> EntryOut:
        entry = await conflicts.resolve_conflict(db_session, caller, entry_id, data.keep, now=datetime.now(UTC))
        return entry_out(entry)
