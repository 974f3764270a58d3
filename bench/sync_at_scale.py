"""The sync engine at scale, with a real `gateway worker` on PostgreSQL and Redis against the fake Tasklog.

    python -m bench.sync_at_scale [--push 10000] [--rate 50] [--pull 10000 100000] [--tickets 200]

Push: N pending entries on many tickets go to a fake Tasklog that answers at most R requests a second (more get
429 with Retry-After), with `GATEWAY_TRACKER_RATE=R`; prints the wall time against the floor N / R (one create
per entry), the ratio, the 429s and the duplicates (worklogs beyond one per entry: must be 0).
Pull: M worklogs made in Tasklog are pulled and imported by a fresh worker; prints imports per second and the
worker's peak RSS (VmHWM), for each M — the pull streams page by page, so RSS should not grow with M.

Needs the example connector installed (`make .venv/.installed-example`), PostgreSQL at BENCH_DATABASE_URL
(default: the local one) and a Redis database of its own at BENCH_REDIS_URL (default redis://127.0.0.1:6379/15;
it is flushed before each run). PostgreSQL databases are throwaway: created, migrated and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from gateway.connectors import Credentials
from gateway.core import migrator
from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import UserType
from gateway.core.models import Activity, Customer, Link, Project, TicketSystem
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.sync.jobs import SYNC_LINK, job_id
from gateway.core.sync.runtime import arq_redis
from gateway.core.users import create_user
from gateway.core.vault import KeyRing, generate_key_line

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover
    sys.exit("the example connector is not installed: make .venv/.installed-example")

GATEWAY = str(Path(sys.executable).parent / "gateway")
FIRST_DAY = date(2020, 1, 6)


@contextmanager
def throwaway_database() -> Iterator[tuple[str, str]]:
    """(SQLAlchemy URL, libpq conninfo) of a new, migrated database, dropped afterwards."""
    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    admin_info = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_info, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        migrator.upgrade(url)
        yield url, server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


async def link_a_user(database_url: str, fake: FakeTasklog, key_ring: KeyRing, *, page_size: int) -> tuple[int, int]:
    """A DEV linked to the fake's Tasklog, booking on one project that takes TL- tickets: (link id, project id)."""
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        user = await create_user(session, "bench", password=None, user_type=UserType.DEV)
        customer, activity = Customer(name="Customer", global_=True), Activity(name="Development")
        session.add_all([customer, activity])
        await session.flush()
        system = TicketSystem(
            name="Tasklog", type="tasklog", base_url=fake.base_url, book_time=True, import_activity_id=activity.id,
            config={"client_id": fake.client_id, "page_size": page_size},
            secrets=seal_system_secrets({"client_secret": fake.client_secret}, key_ring),
        )  # fmt: skip
        session.add(system)
        await session.flush()
        project = Project(name="Web", customer_id=customer.id, ticket_system_id=system.id, ticket_prefixes=["TL"])
        session.add(project)
        access, refresh = fake.issue_tokens("u1", lifetime=24 * 3600)
        link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
        expires = datetime.now(UTC) + timedelta(hours=24)
        store_credentials(
            link, Credentials(access_token=access, secret=refresh, account_id="u1", expires_at=expires), key_ring
        )
        session.add(link)
        await session.commit()
        ids = (link.id, project.id)
    await engine.dispose()
    return ids


def slot(n: int) -> tuple[date, str, str]:
    """The n-th booking of a working life: eight 45-minute slots a day from 08:00, day after day."""
    day = FIRST_DAY + timedelta(days=n // 8)
    start = 8 * 60 + (n % 8) * 45
    return day, f"{start // 60:02d}:{start % 60:02d}", f"{(start + 45) // 60:02d}:{(start + 45) % 60:02d}"


def book_pending(conninfo: str, count: int, tickets: int) -> None:
    """`count` pending entries of the one user, spread over `tickets` tickets (written straight into the table)."""
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        user_id, customer_id, project_id, activity_id = cursor.execute(
            "SELECT u.id, c.id, p.id, a.id FROM users u, customers c, projects p, activities a"
        ).fetchone()  # type: ignore[misc]
        with cursor.copy(
            'COPY entries (uuid, user_id, customer_id, project_id, activity_id, day, start, "end", duration, '
            "ticket, description, class, synced_to_ticketsystem, sync_state, sync_attempts, version, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            now = datetime.now(UTC)
            for n in range(count):
                day, start, end = slot(n)
                copy.write_row((
                    uuid.uuid4(), user_id, customer_id, project_id, activity_id, day, start, end, 45,
                    f"TL-{1 + n % tickets}", f"Work {n}", 0, False, "pending", 0, 1, now, now,
                ))  # fmt: skip
        conn.commit()


def count(conninfo: str, query: str) -> int:
    with psycopg.connect(conninfo) as conn:
        return int(conn.execute(query).fetchone()[0])  # type: ignore[index]


def start_worker(database_url: str, redis_url: str, key_line: str, rate: int, log: Path) -> subprocess.Popen[bytes]:
    asyncio.run(flush(redis_url))  # no job or budget of an earlier run
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in ("DATABASE_URL",)}
    env.update(
        DATABASE_URL=database_url, REDIS_URL=redis_url, GATEWAY_SECRET_KEYS=key_line,
        GATEWAY_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        GATEWAY_TRACKER_RATE=str(rate), GATEWAY_JOB_TIMEOUT="600", GATEWAY_LOG_FORMAT="json",
    )  # fmt: skip
    command = [GATEWAY, "worker"]  # this virtualenv's own console script
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # noqa: S603


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def flush(redis_url: str) -> None:
    redis = arq_redis(redis_url)
    await redis.flushdb()
    await redis.aclose()


async def enqueue_sync(redis_url: str, link_id: int) -> None:
    redis = arq_redis(redis_url)
    await redis.enqueue_job(SYNC_LINK, link_id, _job_id=job_id(SYNC_LINK, link_id))
    await redis.aclose()


def wait_until(
    done: Callable[[], bool], worker: subprocess.Popen[bytes], log: Path, conninfo: str, limit: float
) -> float:
    """Seconds from the first sync run's start until `done()`: the worker's own start-up does not count."""
    started = time.monotonic()
    while not done():
        if worker.poll() is not None:
            sys.exit(f"the worker died:\n{log.read_text()[-3000:]}")
        if time.monotonic() - started > limit:
            sys.exit(f"not done after {limit:g} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    finished = datetime.now(UTC)
    with psycopg.connect(conninfo) as conn:
        first = conn.execute("SELECT min(started_at) FROM sync_runs").fetchone()[0]  # type: ignore[index]
    return (finished - first).total_seconds()


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def push_bench(redis_url: str, key_line: str, entries: int, rate: int, tickets: int, workdir: Path) -> None:
    key_ring = KeyRing.parse(key_line)
    with throwaway_database() as (database_url, conninfo), FakeTasklog(access_token_lifetime=24 * 3600).serve() as fake:
        for n in range(1, tickets + 1):
            fake.add_issue(f"TL-{n}", f"Issue {n}")
        link_id, _ = asyncio.run(link_a_user(database_url, fake, key_ring, page_size=100))
        book_pending(conninfo, entries, tickets)
        fake.requests_per_second = rate
        log = workdir / "push-worker.log"
        worker = start_worker(database_url, redis_url, key_line, rate, log)
        try:
            # The worker's start-up sweep finds the link due as well; the clock starts with the first run.
            asyncio.run(enqueue_sync(redis_url, link_id))
            pending = "SELECT count(*) FROM entries WHERE sync_state <> 'synced'"
            wall = wait_until(
                lambda: count(conninfo, pending) == 0, worker, log, conninfo, limit=entries / rate * 5 + 120
            )
        finally:
            stop(worker)
        with fake.lock:
            markers = list(fake.created_markers)
            remote = len(fake.worklogs)
            refused = fake.rate_limited
        floor = entries / rate
        print(
            f"push {entries} entries on {tickets} tickets at R={rate}/s: {wall:.1f} s, floor N/R {floor:.1f} s, "
            f"ratio {wall / floor:.2f} (goal <= 1.10); duplicates {len(markers) - len(set(markers))}, "
            f"worklogs {remote} for {entries} entries, 429s {refused}"
        )


def pull_bench(redis_url: str, key_line: str, worklogs: int, workdir: Path) -> tuple[float, float]:
    key_ring = KeyRing.parse(key_line)
    with throwaway_database() as (database_url, conninfo), FakeTasklog(access_token_lifetime=24 * 3600).serve() as fake:
        link_id, _ = asyncio.run(link_a_user(database_url, fake, key_ring, page_size=500))
        for n in range(worklogs):
            day, start, _end = slot(n)
            fake.add_worklog("u1", f"TL-{1 + n % 200}", day.isoformat(), 45, f"Made in Tasklog {n}", start=start)
        for n in range(1, 201):
            fake.add_issue(f"TL-{n}", f"Issue {n}")
        log = workdir / f"pull-worker-{worklogs}.log"
        worker = start_worker(database_url, redis_url, key_line, 1000, log)
        try:
            asyncio.run(enqueue_sync(redis_url, link_id))
            imported = "SELECT count(*) FROM entries"
            wall = wait_until(
                lambda: count(conninfo, imported) >= worklogs, worker, log, conninfo, limit=worklogs / 50 + 120
            )
            rss = peak_rss_mb(worker.pid)
        finally:
            stop(worker)
        rate = worklogs / wall
        print(
            f"pull+import {worklogs} worklogs: {wall:.1f} s, {rate:.0f} imports/s (goal >= 500), "
            f"worker's peak RSS {rss:.0f} MB"
        )
        return rate, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", type=int, default=10_000, help="entries to push (0: skip)")
    parser.add_argument("--rate", type=int, default=50, help="the fake tracker's requests per second")
    parser.add_argument("--tickets", type=int, default=200, help="tickets the pushed entries spread over")
    parser.add_argument("--pull", type=int, nargs="*", default=[10_000, 100_000], help="worklogs to pull, per run")
    args = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    key_line = generate_key_line("bench")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(os.environ.get("BENCH_LOG_DIR") or tmp)  # the workers' logs
        if args.push:
            push_bench(redis_url, key_line, args.push, args.rate, args.tickets, workdir)
        results = [pull_bench(redis_url, key_line, size, workdir) for size in args.pull]
    if len(results) >= 2:
        (_, small), (_, large) = results[0], results[-1]
        print(f"peak RSS {args.pull[-1]} vs {args.pull[0]} worklogs: {large / small:.2f} (goal within 0.90-1.10)")


if __name__ == "__main__":
    main()
