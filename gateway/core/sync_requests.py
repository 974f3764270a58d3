"""Asking for a link to be synced: recorded on the link, so a request made while no worker runs is not lost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.models import UserTicketsystem


async def request_sync(session: AsyncSession, link_ids: Iterable[int], *, now: datetime) -> list[int]:
    """Mark links as wanting a sync; return their ids (the caller enqueues jobs for them after commit)."""
    ids = sorted(set(link_ids))
    if ids:
        await session.execute(
            update(UserTicketsystem).where(UserTicketsystem.id.in_(ids)).values(sync_requested_at=now)
        )
    return ids
