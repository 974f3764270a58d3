"""Sync status per user and ticket system: how many entries wait, failed, conflict, and how old the oldest wait is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.enums import SyncState
from gateway.core.models import Entry, Project, TicketSystem, User
from gateway.core.visibility import visible_entries


@dataclass
class SyncStatusRow:
    user_id: int
    username: str
    ticket_system_id: int
    ticket_system: str
    counts: dict[SyncState, int] = field(default_factory=dict)
    oldest_pending_at: datetime | None = None

    def age_seconds(self, now: datetime) -> float | None:
        return None if self.oldest_pending_at is None else (now - self.oldest_pending_at).total_seconds()


def sync_status_statement(caller: Caller, user_id: int | None = None) -> Select[*tuple[Any, ...]]:
    """Entries per user, ticket system and sync state; a user's rows come from `idx_entries_user_sync`."""
    stmt = visible_entries(
        select(
            Entry.user_id,
            User.username,
            TicketSystem.id,
            TicketSystem.name,
            Entry.sync_state,
            func.count(),
            func.min(Entry.updated_at),
        )
        .join(User, User.id == Entry.user_id)
        .join(Project, Project.id == Entry.project_id)
        .join(TicketSystem, TicketSystem.id == Project.ticket_system_id)
        .where(Entry.sync_state.is_not(None), Entry.deleted_at.is_(None)),
        caller,
    ).group_by(Entry.user_id, User.username, TicketSystem.id, TicketSystem.name, Entry.sync_state)
    if user_id is not None:
        stmt = stmt.where(Entry.user_id == user_id)
    return stmt


async def sync_status_report(session: AsyncSession, caller: Caller, user_id: int | None = None) -> list[SyncStatusRow]:
    """Rows for the users the caller may see (or just `user_id`), by username and ticket system."""
    stmt = sync_status_statement(caller, user_id)
    rows: dict[tuple[int, int], SyncStatusRow] = {}
    for user_id, username, system_id, system, state, count, oldest in (await session.execute(stmt)).all():
        row = rows.setdefault((user_id, system_id), SyncStatusRow(user_id, username, system_id, system))
        if state is None:
            continue
        row.counts[state] = int(count)
        if state is SyncState.PENDING:
            row.oldest_pending_at = oldest
    return [rows[key] for key in sorted(rows, key=lambda k: (rows[k].username, rows[k].ticket_system))]
