"""arq `WorkerSettings`: the job functions, the cron schedule and the per-process resources in `ctx`.

`gateway worker` starts it with the Redis settings and the gateway `Settings` read at start-up.
"""

from __future__ import annotations

from typing import Any, ClassVar

from arq.connections import RedisSettings
from arq.cron import cron

from gateway.core.db import create_engine, create_session_factory, ping
from gateway.core.settings import Settings
from workers.jobs import close_abandoned_sync_runs
from workers.serialization import deserialize_job, serialize_job


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    engine = create_engine(settings.database_url)
    await ping(engine)
    ctx["engine"] = engine
    ctx["session_factory"] = create_session_factory(engine)


async def shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        await engine.dispose()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [close_abandoned_sync_runs]
    cron_jobs: ClassVar[list[Any]] = [
        cron(close_abandoned_sync_runs, minute={0, 15, 30, 45}, run_at_startup=True, unique=True)
    ]
    on_startup = startup
    on_shutdown = shutdown
    job_serializer = serialize_job
    job_deserializer = deserialize_job


def worker_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.run_worker(WorkerSettings, **options)`."""
    assert settings.redis_url is not None
    return {"redis_settings": RedisSettings.from_dsn(settings.redis_url), "ctx": {"settings": settings}}
