"""Asking for links to be synced.

The request is written on the link (`sync_requested_at`), so it survives a Redis outage or a restart — the
scheduler's sweep finds it — and is recorded on the session, so that a job is enqueued as soon as the
transaction commits (`commit_events`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.commit_events import record_link_to_sync
from gateway.core.models import Entry, Link, Project, WorklogSyncState


async def request_sync(session: AsyncSession, link_ids: Iterable[int], *, now: datetime) -> list[int]:
    ids = sorted(set(link_ids))
    if ids:
        await session.execute(
            update(Link)
            .where(Link.id.in_(ids))
            .values(sync_requested_at=now)
            .execution_options(synchronize_session=False)
        )
        for link_id in ids:
            record_link_to_sync(session, link_id)
    return ids


async def request_sync_for_entry(session: AsyncSession, entry: Entry, *, now: datetime) -> list[int]:
    """Sync the links an entry's change concerns: its project's ticket system, and the one holding its worklog."""
    project_system = select(Project.ticket_system_id).where(Project.id == entry.project_id).scalar_subquery()
    holder = select(WorklogSyncState.link_id).where(WorklogSyncState.entry_id == entry.id).scalar_subquery()
    link_ids = (
        await session.scalars(
            select(Link.id).where(
                Link.enabled.is_(True),
                or_(
                    (Link.user_id == entry.user_id) & (Link.ticket_system_id == project_system),
                    Link.id == holder,
                ),
            )
        )
    ).all()
    return await request_sync(session, link_ids, now=now)
