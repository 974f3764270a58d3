"""arq worker settings: the job functions, the cron schedule and the per-process resources in `ctx`.

`gateway worker` starts it with options built from the gateway `Settings` read at start-up (`worker_options`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import func

from gateway import __version__
from gateway.core.db import create_engine, create_session_factory, ping
from gateway.core.live import RedisPublisher
from gateway.core.plugins import build_registry
from gateway.core.settings import Settings
from gateway.core.sync.jobs import (
    PULL_LINK,
    READ_CHANGED_TICKETS,
    REFRESH_TICKET,
    SYNC_LINK,
    ArqQueue,
    after_commit_handler,
)
from gateway.core.sync.runtime import arq_redis, sync_deps
from gateway.core.sync.serialization import deserialize_job, serialize_job
from gateway.core.webhook_deliveries import HANDLE_DELIVERIES
from workers import jobs

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    engine = create_engine(settings.database_url)
    await ping(engine)
    registry = build_registry()
    http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, headers={"User-Agent": f"timetracker-gateway/{__version__}"})
    redis = arq_redis(settings.redis_url or "")
    # Workers publish live updates to Redis; the API processes forward them to the pages they serve.
    on_commit = after_commit_handler(registry, ArqQueue(redis), RedisPublisher(redis))
    session_factory = create_session_factory(engine, on_commit=on_commit)
    ctx.update(
        engine=engine,
        http=http,
        session_factory=session_factory,
        sync_deps=sync_deps(settings, session_factory, registry, http, redis),
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    if "http" in ctx:
        await ctx["http"].aclose()
    if "engine" in ctx:
        await ctx["engine"].dispose()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [jobs.close_abandoned_sync_runs, jobs.sweep]
    cron_jobs: ClassVar[list[Any]] = [
        cron(jobs.close_abandoned_sync_runs, minute={0, 15, 30, 45}, run_at_startup=True, unique=True),
        # Every minute, and at start-up: catch up on whatever could not be queued (Redis was down, a restart).
        cron(jobs.sweep, second=0, run_at_startup=True, unique=True),
    ]
    on_startup = startup
    on_shutdown = shutdown
    job_serializer = serialize_job
    job_deserializer = deserialize_job


def worker_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.run_worker(WorkerSettings, **options)`."""
    assert settings.redis_url is not None
    # keep_result=0: arq keeps results an hour by default, and a kept result blocks re-queueing the same job id.
    sync_jobs = [
        func(job, name=name, keep_result=0, timeout=settings.job_timeout_seconds, max_tries=settings.job_max_tries)
        for name, job in (
            (SYNC_LINK, jobs.sync_link),
            (PULL_LINK, jobs.pull_link),
            (REFRESH_TICKET, jobs.refresh_ticket),
            (READ_CHANGED_TICKETS, jobs.read_changed_tickets),
            (HANDLE_DELIVERIES, jobs.handle_webhook_deliveries),
        )
    ]
    return {
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "functions": [*WorkerSettings.functions, *sync_jobs],
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": settings.job_timeout_seconds,
        "max_tries": settings.job_max_tries,
        "ctx": {"settings": settings},
    }
