"""Job functions: each opens a session, calls one core service and commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.core.logs import get_logger
from gateway.core.sync_runs import close_abandoned_runs

log = get_logger("gateway.workers")

# A run open for longer than this cannot still be going: jobs are killed at the worker's job timeout.
ABANDONED_AFTER = timedelta(hours=1)


async def close_abandoned_sync_runs(ctx: dict[str, Any]) -> int:
    async with ctx["session_factory"]() as session:
        closed = await close_abandoned_runs(session, now=datetime.now(UTC), max_age=ABANDONED_AFTER)
        await session.commit()
    if closed:
        log.warning("closed abandoned sync runs", count=closed)
    return closed
