"""A real `gateway worker` process against PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from arq import create_pool
from arq.connections import RedisSettings

from gateway.core.sync.serialization import deserialize_job, serialize_job
from gateway.core.sync_runs import ABANDONED
from tests.support import GATEWAY, Run, assert_one_line_error, clean_environment, pg_connect


def insert_stuck_run(pg_url: str) -> None:
    started = datetime.now(UTC) - timedelta(hours=3)
    with pg_connect(pg_url) as conn:
        conn.execute(
            "INSERT INTO users (id, username, display_name, type, locale, active, created_at, updated_at) "
            "VALUES (1, 'ada', 'Ada', 'DEV', 'en', true, now(), now());"
            "INSERT INTO ticket_systems (id, name, type, base_url, enabled, book_time, config, created_at, updated_at)"
            " VALUES (1, 'R', 'redmine', 'http://127.0.0.1:1', true, true, '{}', now(), now());"
            "INSERT INTO users_ticket_systems (id, user_id, ticket_system_id, enabled, avoid_connection, "
            "created_at, updated_at) VALUES (1, 1, 1, true, false, now(), now())"
        )
        conn.execute(
            "INSERT INTO sync_runs (link_id, started_at, pushed, pulled, failed, conflicts) VALUES (1, %s, 0, 0, 0, 0)",
            (started,),
        )


def run_errors(pg_url: str) -> list[str | None]:
    with pg_connect(pg_url) as conn:
        return [row[0] for row in conn.execute("SELECT error FROM sync_runs")]


def test_worker_runs_its_jobs_from_redis(pg_url: str, redis_url: str, key_line: str, tmp_path: Path) -> None:
    insert_stuck_run(pg_url)
    env = clean_environment(DATABASE_URL=pg_url, REDIS_URL=redis_url, GATEWAY_SECRET_KEYS=key_line)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen([GATEWAY, "worker"], env=env, stdout=log, stderr=log)
    try:
        # The cron job also runs at start-up, so the stuck run is closed without anything being enqueued.
        deadline = time.monotonic() + 30
        while run_errors(pg_url) != [ABANDONED]:
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)

        async def enqueue_and_wait() -> object:
            redis = await create_pool(
                RedisSettings.from_dsn(redis_url), job_serializer=serialize_job, job_deserializer=deserialize_job
            )
            try:
                job = await redis.enqueue_job("close_abandoned_sync_runs")
                assert job is not None
                return await job.result(timeout=30)
            finally:
                await redis.aclose()

        assert asyncio.run(enqueue_and_wait()) == 0
    finally:
        worker.terminate()
        worker.wait(timeout=15)
    assert key_line.split(":", 1)[1] not in log_path.read_text()


def test_worker_with_unreachable_redis_exits_with_one_readable_line(
    run_gateway: Run, sqlite_url: str, key_line: str
) -> None:
    result = run_gateway(
        "worker", DATABASE_URL=sqlite_url, REDIS_URL="redis://127.0.0.1:1/0", GATEWAY_SECRET_KEYS=key_line
    )
    assert_one_line_error(result, "cannot reach Redis at redis://127.0.0.1:1/0")
