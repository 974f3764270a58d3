"""Conflicts: entries changed both here and in the tracker, and the user's choice between the two versions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.commit_events import record_entry_change
from gateway.core.entries import reclassify_day
from gateway.core.enums import SyncState
from gateway.core.errors import InvalidInput, NotFound
from gateway.core.models import Entry, User, WorklogSyncState
from gateway.core.revisions import audited_values, record_revision
from gateway.core.sync import snapshot
from gateway.core.sync.snapshot import end_of
from gateway.core.sync_requests import request_sync_for_entry


class Keep(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class Conflict:
    entry: Entry
    local: snapshot.Snapshot
    remote: dict[str, Any]


async def my_conflicts(session: AsyncSession, caller: Caller) -> list[Conflict]:
    rows = (
        await session.execute(
            select(Entry, WorklogSyncState)
            .join(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
            .where(Entry.user_id == caller.user_id, Entry.sync_state == SyncState.CONFLICT, Entry.deleted_at.is_(None))
            .order_by(Entry.day, Entry.start)
        )
    ).all()
    return [Conflict(entry, snapshot.of_entry(entry), state.conflict_remote or {}) for entry, state in rows]


async def resolve_conflict(session: AsyncSession, caller: Caller, entry_id: int, keep: Keep, *, now: Any) -> Entry:
    """Keep the gateway's version (pushed over the tracker's) or the tracker's (copied into the entry)."""
    await session.execute(select(User.id).where(User.id == caller.user_id).with_for_update())
    row = (
        await session.execute(
            select(Entry, WorklogSyncState)
            .join(WorklogSyncState, WorklogSyncState.entry_id == Entry.id)
            .where(Entry.id == entry_id, Entry.user_id == caller.user_id, Entry.sync_state == SyncState.CONFLICT)
        )
    ).first()
    if row is None:
        raise NotFound(f"you have no conflict on entry {entry_id}")
    entry, state = row
    remote = state.conflict_remote or {}
    if keep is Keep.REMOTE:
        before = audited_values(entry)
        old_day = entry.day
        entry.ticket = remote["ticket"]
        entry.description = remote["description"]
        entry.day = snapshot.day_of(remote)
        entry.start = snapshot.start_of(remote, entry.start)
        end = end_of(entry.start, remote["minutes"])
        if end is None:
            raise InvalidInput("the tracker's version would run past midnight; keep yours and fix it there")
        entry.end, entry.duration = end, remote["minutes"]
        entry.version += 1
        entry.sync_state = SyncState.SYNCED
        await session.flush()
        for day in {old_day, entry.day}:
            await reclassify_day(session, entry.user_id, day)
        await record_revision(
            session, entry, author_id=caller.user_id, source="api:conflict", action="update", before=before,
            after=audited_values(entry),
        )  # fmt: skip
        record_entry_change(session, entry, "update")
    else:
        entry.sync_state = SyncState.PENDING
    # Either way the tracker's version is now the base: keeping ours is then a plain local change to push.
    state.base = {name: remote[name] for name in snapshot.FIELDS if name in remote}
    state.conflict_remote = None
    entry.sync_error = None
    await session.flush()
    if entry.sync_state is SyncState.PENDING:
        await request_sync_for_entry(session, entry, now=now)
    return entry
