"""arq job functions: each takes what it needs from `ctx`, calls one core function, and maps deferral to Retry.

The jobs themselves are the table `gateway.core.sync.jobs.JOBS` (the in-process runner runs the same table);
`JOB_FUNCTIONS` wraps each for arq.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.typing import WorkerCoroutine
from arq.worker import Retry

from gateway.core.logs import get_logger
from gateway.core.sync import jobs
from gateway.core.sync.deferred import Deferred, RunAgain
from gateway.core.sync_runs import close_abandoned_runs

log = get_logger("gateway.workers")

# A run open for longer than this cannot still be going: jobs are stopped at the worker's job timeout.
ABANDONED_AFTER = timedelta(hours=1)


def _arq_job(name: str, job: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    async def run(ctx: dict[str, Any], *args: Any) -> None:
        deps = ctx["sync_deps"]
        try:
            await job(deps, *args)
        except RunAgain:
            # A new job (not a Retry, which would count against max_tries): a long import may take many.
            again = jobs.job_id(name, *args, "again", secrets.token_hex(4))
            await ctx["redis"].enqueue_job(name, *args, _job_id=again)
        except Deferred as deferred:
            delay = jobs.retry_delay(deferred, ctx.get("job_try", 1))
            if name in jobs.LINK_JOBS:
                await jobs.note_next_attempt(deps, args[0], delay)
            raise Retry(defer=delay) from deferred

    run.__name__ = run.__qualname__ = name
    return run


# What arq runs, by job name: the same table as the in-process runner.
JOB_FUNCTIONS: dict[str, WorkerCoroutine] = {name: _arq_job(name, job) for name, job in jobs.JOBS.items()}


async def sweep(ctx: dict[str, Any]) -> int:
    """Queue every due job: syncs of links (pending entries, requests made while Redis was down, idle pulls) and
    reads of ticket systems' changed tickets."""
    due = await jobs.due_jobs(ctx["sync_deps"])
    for name, argument in due:
        await ctx["redis"].enqueue_job(name, argument, _job_id=jobs.job_id(name, argument))
    return len(due)


async def recover(ctx: dict[str, Any]) -> int:
    """Queue a sync of every link whose run died with its worker (its lease lapsed but was never released)."""
    found = await jobs.abandoned_links(ctx["sync_deps"])
    for link_id, lease_until in found:
        await ctx["redis"].enqueue_job(jobs.SYNC_LINK, link_id, _job_id=jobs.recovery_job_id(link_id, lease_until))
    if found:
        log.warning("picking up links whose sync died with its worker", links=[link_id for link_id, _ in found])
    return len(found)


async def close_abandoned_sync_runs(ctx: dict[str, Any]) -> int:
    async with ctx["session_factory"]() as session:
        closed = await close_abandoned_runs(session, now=datetime.now(UTC), max_age=ABANDONED_AFTER)
        await session.commit()
    if closed:
        log.warning("closed abandoned sync runs", count=closed)
    return closed
