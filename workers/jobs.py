"""arq job functions: each takes what it needs from `ctx`, calls one core function, and maps deferral to Retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.worker import Retry

from gateway.core import ticket_feed, webhook_deliveries
from gateway.core.logs import get_logger
from gateway.core.sync import jobs
from gateway.core.sync.deferred import Deferred
from gateway.core.sync_runs import close_abandoned_runs

log = get_logger("gateway.workers")

# A run open for longer than this cannot still be going: jobs are stopped at the worker's job timeout.
ABANDONED_AFTER = timedelta(hours=1)


async def _deferring(ctx: dict[str, Any], job: Callable[..., Awaitable[Any]], *args: Any) -> None:
    try:
        await job(ctx["sync_deps"], *args)
    except Deferred as deferred:
        raise Retry(defer=jobs.retry_delay(deferred, ctx.get("job_try", 1))) from deferred


async def sync_link(ctx: dict[str, Any], link_id: int) -> None:
    await _deferring(ctx, jobs.run_sync_link, link_id)


async def pull_link(ctx: dict[str, Any], link_id: int) -> None:
    await _deferring(ctx, jobs.run_pull_link, link_id)


async def refresh_ticket(ctx: dict[str, Any], system_id: int, key: str) -> None:
    await _deferring(ctx, jobs.run_refresh_ticket, system_id, key)


async def read_changed_tickets(ctx: dict[str, Any], system_id: int) -> None:
    await _deferring(ctx, ticket_feed.read_changed_tickets, system_id)


async def handle_webhook_deliveries(ctx: dict[str, Any], system_id: int) -> None:
    await _deferring(ctx, webhook_deliveries.handle_deliveries, system_id)


async def sweep(ctx: dict[str, Any]) -> int:
    """Queue every due job: syncs of links (pending entries, requests made while Redis was down, idle pulls) and
    reads of ticket systems' changed tickets."""
    due = await jobs.due_jobs(ctx["sync_deps"])
    for name, argument in due:
        await ctx["redis"].enqueue_job(name, argument, _job_id=jobs.job_id(name, argument))
    return len(due)


async def close_abandoned_sync_runs(ctx: dict[str, Any]) -> int:
    async with ctx["session_factory"]() as session:
        closed = await close_abandoned_runs(session, now=datetime.now(UTC), max_age=ABANDONED_AFTER)
        await session.commit()
    if closed:
        log.warning("closed abandoned sync runs", count=closed)
    return closed
