"""`gateway worker`: an arq worker that runs sync jobs from Redis."""

from __future__ import annotations

import click
from arq.worker import run_worker
from redis.exceptions import RedisError

from gateway.cli._runtime import check_database, settings_with_logging
from gateway.cli.serve import prepare_metrics_dir
from gateway.core.errors import ConfigError, GatewayError, reason_of
from workers.settings import WorkerSettings, worker_options


@click.command()
def worker() -> None:
    """Run an arq worker (needs REDIS_URL); start as many as the load needs."""
    settings = settings_with_logging()
    if settings.redis_url is None:
        raise ConfigError(
            "REDIS_URL is not set: `gateway worker` takes its jobs from Redis "
            "(without Redis, `gateway serve` runs the jobs itself)"
        )
    settings.require_key_ring()
    check_database(settings)
    prepare_metrics_dir(settings, workers=1)
    try:
        run_worker(WorkerSettings, **worker_options(settings))  # type: ignore[arg-type]
    except (RedisError, OSError) as exc:
        raise GatewayError(f"cannot reach Redis at {settings.redis_url}: {reason_of(exc)}") from None
