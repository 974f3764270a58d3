"""Housekeeping of the sync run history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.models import SyncRun

ABANDONED = "abandoned: the worker stopped before the run finished"


async def close_abandoned_runs(session: AsyncSession, *, now: datetime, max_age: timedelta) -> int:
    """Mark runs still open after `max_age` as finished with an error; return how many there were.

    A worker killed mid-run never closes its run; without this the run would show as "running" forever.
    """
    result = await session.execute(
        update(SyncRun)
        .where(SyncRun.finished_at.is_(None), SyncRun.started_at < now - max_age)
        .values(finished_at=now, error=ABANDONED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
