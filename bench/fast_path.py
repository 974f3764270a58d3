"""API requests against their floors, on PostgreSQL (default 5 M entries) or SQLite, measured side by side.

    python -m bench.fast_path [--database postgresql|sqlite] [--rows N] [--users 200] [--runs 200]

Creates a throwaway database (BENCH_DATABASE_URL's PostgreSQL server, or a SQLite file), fills it (`bench.fill`,
in SQL), serves the gateway with one `uvicorn` process as `gateway serve` does (`bench.serve_app`, which adds a
bare Litestar endpoint), and prints for each request its p50 next to its floor, interleaved in one run:

- `GET /api/me` with a token against `GET /health/live` (goal: at most 2 x);
- a user's month of entries against the SQL the request needs run directly: the token check and the page query,
  with the same parameters (goal: at most 1.5 x); the 1000th page of a long list by cursor against the first;
- the time report of one project for a year by activity and month against its SQL (goal: at most 1.3 x), with
  and without `idx_entries_project_day`;
- signed Jira webhooks, 16 at a time: requests per second against a bare POST endpoint (goal: at least 50 %);
  then that every delivery was recorded once and handled once;
- the EXPLAIN plan of each query, with the index it used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import Select, make_url, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bench.fill import fill, fill_sqlite
from gateway.core import migrator
from gateway.core.auth.api_tokens import TOKEN_PREFIX
from gateway.core.auth.caller import Caller
from gateway.core.auth.tokens import hash_token, new_token
from gateway.core.entries import ENTRY_KEY, ENTRY_OUT_COLUMNS
from gateway.core.enums import UserType
from gateway.core.models import ApiToken, Entry, User
from gateway.core.reports.time_report import Dimension, TimeFilter, time_report_statement
from gateway.core.secrets_at_rest import seal_system_secrets
from gateway.core.vault import KeyRing, generate_key_line
from gateway.core.visibility import visible_entries

USER = 7
MONTH = (date(2023, 3, 1), date(2023, 3, 31))
YEAR = (date(2023, 1, 1), date(2023, 12, 31))
PROJECT = 2
WEBHOOK_SECRET = "bench-webhook-secret"
CONCURRENCY = 16


# --- The database -------------------------------------------------------------------------------------------------


class Database:
    """The throwaway database: a URL for the gateway, and a direct connection for the floors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if kind == "postgresql":
            self.server = make_url(
                os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
            )
            self.name = f"gw_bench_{uuid.uuid4().hex[:8]}"
            self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        else:
            self._tmp = tempfile.TemporaryDirectory()
            self.url = f"sqlite:///{Path(self._tmp.name) / 'bench.db'}"

    def __enter__(self) -> Database:
        if self.kind == "postgresql":
            with psycopg.connect(self._libpq("postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
        return self

    def __exit__(self, *_: object) -> None:
        if self.kind == "postgresql":
            with psycopg.connect(self._libpq("postgres"), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
        elif self._tmp is not None:
            self._tmp.cleanup()

    def _libpq(self, database: str) -> str:
        return self.server.set(drivername="postgresql", database=database).render_as_string(hide_password=False)

    def connect(self) -> Any:
        if self.kind == "postgresql":
            return psycopg.connect(self._libpq(self.name), autocommit=True)
        conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def compile(self, statement: Select[Any]) -> str:
        dialect = postgresql.dialect() if self.kind == "postgresql" else sqlite_dialect.dialect()
        return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    def explain(self, conn: Any, query: str) -> str:
        prefix = "EXPLAIN " if self.kind == "postgresql" else "EXPLAIN QUERY PLAN "
        rows = conn.execute(prefix + query).fetchall()
        return "\n".join(f"    {row[0] if self.kind == 'postgresql' else row[-1]}" for row in rows)


def prepare(db: Database, rows: int, users: int, key_ring: KeyRing) -> str:
    """Fill the database; a token for user 7 and a Jira system with a webhook secret. Returns the token."""
    started = time.perf_counter()
    migrator.upgrade(db.url, "head", key_ring=key_ring)
    with contextlib.closing(db.connect()) as conn:
        if db.kind == "postgresql":
            fill(conn, rows, users)
        else:
            fill_sqlite(conn, rows, users)
        token = new_token(TOKEN_PREFIX)
        now = "2026-01-01 00:00:00"
        conn.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, scopes, created_at) "
            f"VALUES ({USER}, 'bench', '{hash_token(token)}', '{token[:8]}', '[]', '{now}')"
        )
        secrets = seal_system_secrets({"webhook_secret": WEBHOOK_SECRET}, key_ring)
        config = json.dumps({"flavour": "datacenter", "auth": "personal_token"})
        conn.execute(
            "INSERT INTO ticket_systems (name, type, base_url, enabled, book_time, config, secrets, created_at, "
            f"updated_at) VALUES ('Jira', 'jira', 'https://jira.example', true, true, '{config}', '{secrets}', "
            f"'{now}', '{now}')"
        )
        if db.kind == "sqlite":
            conn.commit()
    print(f"filled {rows:,} entries for {users} users in {time.perf_counter() - started:.0f} s")
    return token


# --- Timing -------------------------------------------------------------------------------------------------------


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def interleaved(runs: int, **probes: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Each probe once per round, round after round: both sides of a ratio see the same machine load."""
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(3):
        for probe in probes.values():
            await probe()
    for _ in range(runs):
        for name, probe in probes.items():
            started = time.perf_counter()
            await probe()
            samples[name].append(time.perf_counter() - started)
    return {name: p50(values) for name, values in samples.items()}


def timed_sql(conn: Any, *queries: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        for query in queries:
            conn.execute(query).fetchall()

    return run


def timed_get(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
    async def run() -> None:
        response = await client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.text[:300]}")

    return run


def ratio_line(label: str, value: float, floor: float, floor_label: str, goal: str) -> None:
    print(f"  {label:44} {value:8.2f} ms   {floor_label:30} {floor:8.2f} ms   {value / floor:5.2f} x  (goal {goal})")


# --- The server ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def served(db: Database, key_line: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": db.url, "GATEWAY_SECRET_KEYS": key_line, "GATEWAY_LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    process = subprocess.Popen([sys.executable, "-m", "bench.serve_app", str(port)], env=env)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/live").status_code == 200:
                    break
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- The measurements ---------------------------------------------------------------------------------------------


def token_query(db: Database, token: str) -> str:
    return db.compile(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
            User.deleted_at.is_(None),
        )
    )


def entries_query(db: Database, user_id: int, limit: int, first_day: date | None = None) -> Select[Any]:
    caller = Caller(user_id=user_id, username=f"user{user_id}", type=UserType.DEV)
    stmt = visible_entries(select(*ENTRY_OUT_COLUMNS, Entry.start).where(Entry.deleted_at.is_(None)), caller)
    stmt = stmt.where(Entry.user_id == user_id)
    if first_day is not None:
        stmt = stmt.where(Entry.day >= first_day)
    order = [part.column.desc() if part.descending else part.column.asc() for part in ENTRY_KEY]  # type: ignore[union-attr]
    return stmt.order_by(*order).limit(limit + 1)


async def measure(db: Database, base: str, token: str, args: argparse.Namespace) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    caller = Caller(user_id=USER, username=f"user{USER}", type=UserType.DEV)
    month = entries_query(db, USER, 500, MONTH[0]).where(Entry.day <= MONTH[1])
    report_filter = TimeFilter(first_day=YEAR[0], last_day=YEAR[1], project_id=PROJECT)
    admin = Caller(user_id=USER, username=f"user{USER}", type=UserType.ADMIN)
    report = db.compile(time_report_statement([Dimension.ACTIVITY, Dimension.MONTH], admin, report_filter))
    with contextlib.closing(db.connect()) as conn:
        conn.execute(f"UPDATE users SET type = 'ADMIN' WHERE id = {USER}")
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            list_url = f"/api/entries?first_day={MONTH[0]}&last_day={MONTH[1]}&limit=500"
            count = len((await client.get(list_url, headers=auth)).json()["items"])
            print(f"\nsequential requests, p50 of {args.runs} (one uvicorn process; SQL on one direct connection)")
            found = await interleaved(
                args.runs,
                live=timed_get(client, "/health/live"),
                bare=timed_get(client, "/api/bench/bare"),
                me=timed_get(client, "/api/me", auth),
                entries=timed_get(client, list_url, auth),
                entries_sql=timed_sql(conn, token_query(db, token), db.compile(month)),
                report=timed_get(
                    client,
                    f"/api/reports/time?first_day={YEAR[0]}&last_day={YEAR[1]}&project_id={PROJECT}"
                    "&group_by=activity,month",
                    auth,
                ),
                report_sql=timed_sql(conn, token_query(db, token), report),
            )
            ratio_line("GET /api/me (token)", found["me"], found["live"], "GET /health/live", "<= 2")
            ratio_line("  (a bare Litestar GET, for scale)", found["bare"], found["live"], "GET /health/live", "-")
            ratio_line(
                f"GET /api/entries, a month ({count} rows)",
                found["entries"],
                found["entries_sql"],
                "token + page SQL",
                "<= 1.5",
            )
            ratio_line(
                "GET /api/reports/time, project year",
                found["report"],
                found["report_sql"],
                "token + report SQL",
                "<= 1.3",
            )

            # A long list: the first page, and a page 1000 pages deep, by cursor.
            first = (await client.get("/api/entries?limit=50", headers=auth)).json()
            cursor = first["next_cursor"]
            for _ in range(min(1000, args.rows // args.users // 50 - 2)):
                cursor = (await client.get(f"/api/entries?limit=50&cursor={cursor}", headers=auth)).json()[
                    "next_cursor"
                ]
            deep = await interleaved(
                args.runs,
                first=timed_get(client, "/api/entries?limit=50", auth),
                deep=timed_get(client, f"/api/entries?limit=50&cursor={cursor}", auth),
                offset=timed_get(client, "/api/entries?limit=50&offset=50000", auth),
            )
            ratio_line("GET /api/entries, a deep page by cursor", deep["deep"], deep["first"], "the first page", "~1")
            ratio_line("  (the same depth by offset, deprecated)", deep["offset"], deep["first"], "the first page", "-")

            print("\nEXPLAIN")
            print("  the month of entries:")
            print(db.explain(conn, db.compile(month)))
            print("  the time report of a project's year:")
            print(db.explain(conn, report))

            print("\nwithout idx_entries_project_day (dropped for this run):")
            conn.execute("DROP INDEX idx_entries_project_day")
            without = await interleaved(
                max(10, args.runs // 10),
                report=timed_get(
                    client,
                    f"/api/reports/time?first_day={YEAR[0]}&last_day={YEAR[1]}&project_id={PROJECT}"
                    "&group_by=activity,month",
                    auth,
                ),
                report_sql=timed_sql(conn, report),
            )
            print(db.explain(conn, report))
            ratio_line("GET /api/reports/time, without the index", without["report"], found["report"], "with it", "-")
            conn.execute("CREATE INDEX idx_entries_project_day ON entries (project_id, day)")

            await webhooks(client, conn, args)
    del caller


async def webhooks(client: httpx.AsyncClient, conn: Any, args: argparse.Namespace) -> None:
    total = args.webhooks
    system_id = conn.execute("SELECT id FROM ticket_systems WHERE type = 'jira'").fetchone()[0]

    def delivery(n: int) -> tuple[dict[str, str], bytes]:
        issue = {"key": f"BEN-{n % 500}", "fields": {"summary": f"Issue {n}", "status": {"name": "Open"}}}
        body = json.dumps({"webhookEvent": "jira:issue_updated", "issue": issue}).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": f"sha256={signature}",
            "X-Atlassian-Webhook-Identifier": f"bench-{n}",
        }
        return headers, body

    async def rate(url: str, count: int, offset: int) -> float:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(offset, offset + count):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                headers, body = delivery(n % total)  # the second round replays the first: duplicates
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 202:
                    raise SystemExit(f"POST {url}: {response.status_code} {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)

    await rate("/api/bench/bare", 200, 0)
    bare = await rate("/api/bench/bare", total, 0)
    hooks = await rate(f"/api/webhooks/{system_id}", total, 0)
    bare_again = await rate("/api/bench/bare", total, 0)
    replays = await rate(f"/api/webhooks/{system_id}", total, total)
    floor = (bare + bare_again) / 2
    print(f"\nwebhooks, {CONCURRENCY} at a time, {total} signed Jira deliveries (then the same again: replays)")
    print(f"  bare Litestar POST {floor:8.0f} /s")
    print(f"  POST /api/webhooks {hooks:8.0f} /s   {hooks / floor:5.0%} of bare  (goal >= 50 %)")
    print(f"  replayed deliveries{replays:8.0f} /s   {replays / floor:5.0%} of bare")
    for _ in range(600):
        waiting = conn.execute("SELECT count(*) FROM webhook_deliveries WHERE processed_at IS NULL").fetchone()[0]
        if not waiting:
            break
        await asyncio.sleep(0.1)
    recorded, distinct, handled = conn.execute(
        "SELECT count(*), count(DISTINCT delivery_id), count(processed_at) FROM webhook_deliveries"
    ).fetchone()
    tickets = conn.execute(f"SELECT count(*) FROM tickets WHERE ticket_system_id = {system_id}").fetchone()[0]
    verdict = "none lost, none doubled" if recorded == distinct == handled == total else "MISMATCH"
    print(
        f"  deliveries recorded {recorded} (distinct {distinct}, sent {total} twice), handled {handled}, "
        f"tickets cached {tickets}: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--rows", type=int, help="entries (default: 5,000,000 on PostgreSQL, 500,000 on SQLite)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=2000)
    args = parser.parse_args()
    args.rows = args.rows or (5_000_000 if args.database == "postgresql" else 500_000)
    key_line = generate_key_line("bench")
    key_ring = KeyRing.parse(key_line)
    with Database(args.database) as db:
        token = prepare(db, args.rows, args.users, key_ring)
        print(
            f"{args.database}: {args.rows:,} entries, {args.users} users; user {USER} has {args.rows // args.users:,}"
        )
        with served(db, key_line) as base:
            asyncio.run(measure(db, base, token, args))


if __name__ == "__main__":
    main()
