"""What syncing looks like per link: the last run, what it did, what is waiting, and what went wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.enums import SyncState
from gateway.core.models import Entry, Link, Project, SyncRun, TicketSystem, User
from gateway.core.permissions import require_admin
from gateway.core.sync.jobs import PULL_EVERY


@dataclass(frozen=True, slots=True)
class LinkSyncStatus:
    link: Link
    system: TicketSystem
    username: str
    last_run: SyncRun | None
    pending: int
    failed: int
    conflicts: int
    next_run: datetime | None
    # A run holds a live lease on the link now (a lease a dead worker left behind has lapsed).
    running: bool


async def my_sync_status(session: AsyncSession, caller: Caller) -> list[LinkSyncStatus]:
    return await _statuses(session, Link.user_id == caller.user_id)


async def all_sync_status(session: AsyncSession, caller: Caller) -> list[LinkSyncStatus]:
    require_admin(caller, "see every user's sync")
    return await _statuses(session, Link.enabled.is_(True))


async def _statuses(session: AsyncSession, condition: object) -> list[LinkSyncStatus]:
    now = datetime.now(UTC)
    rows = (
        await session.execute(
            select(Link, TicketSystem, User.username)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .join(User, User.id == Link.user_id)
            .where(condition, TicketSystem.deleted_at.is_(None))  # type: ignore[arg-type]
            .order_by(User.username, TicketSystem.name)
        )
    ).all()
    statuses = []
    for link, system, username in rows:
        last_run = await session.scalar(
            select(SyncRun).where(SyncRun.link_id == link.id).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        )
        counts = dict(
            (
                await session.execute(
                    select(Entry.sync_state, func.count())
                    .join(Project, Project.id == Entry.project_id)
                    .where(Entry.user_id == link.user_id, Project.ticket_system_id == system.id)
                    .group_by(Entry.sync_state)
                )
            ).all()
        )
        statuses.append(
            LinkSyncStatus(
                link=link,
                system=system,
                username=username,
                last_run=last_run,
                pending=counts.get(SyncState.PENDING, 0),
                failed=counts.get(SyncState.FAILED, 0),
                conflicts=counts.get(SyncState.CONFLICT, 0),
                next_run=_next_run(link, counts.get(SyncState.PENDING, 0), now),
                running=lease_alive(link, now),
            )
        )
    return statuses


def lease_alive(link: Link, now: datetime) -> bool:
    return link.sync_lease_until is not None and link.sync_lease_until > now


def _next_run(link: Link, pending: int, now: datetime) -> datetime | None:
    """When the link syncs next (at the latest): the retry of a deferred run, now-ish if something waits, else the
    next pull."""
    if not link.enabled or link.needs_reconnect or link.access_token is None:
        return None
    if lease_alive(link, now):
        return None  # running now
    if link.next_sync_at is not None and link.next_sync_at > now:
        return link.next_sync_at
    if pending or (link.sync_requested_at and (not link.last_sync_at or link.sync_requested_at > link.last_sync_at)):
        return link.sync_requested_at or link.last_sync_at
    return link.last_sync_at + PULL_EVERY if link.last_sync_at else None
