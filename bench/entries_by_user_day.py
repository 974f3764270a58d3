"""What `idx_entries_user_day` buys: a user's entries of one month, with and without the index, on PostgreSQL.

    python -m bench.entries_by_user_day [--rows 200000] [--users 100] [--runs 200]

Creates a throwaway database on BENCH_DATABASE_URL's server (default: the local PostgreSQL), migrates it, fills
`entries`, times the query the entry list runs, drops the index inside a transaction, times again, and prints
both medians and their ratio. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from bench.fill import fill
from gateway.core import migrator

QUERY = "SELECT * FROM entries WHERE user_id = %s AND day BETWEEN %s AND %s ORDER BY day DESC"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    libpq = server.set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = server.set(database=name)
    try:
        migrator.upgrade(database.render_as_string(hide_password=False))
        conninfo = libpq.set(database=name).render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            fill(conn, args.rows, args.users)
            print(f"entries: {args.rows}, users: {args.users}, runs: {args.runs}")
            baseline = report(conn, "all indexes", args)
            conn.execute("BEGIN")
            conn.execute("DROP INDEX idx_entries_user_day")
            report(conn, "without idx_entries_user_day", args, baseline)
            conn.execute("DROP INDEX idx_entries_user_project")
            conn.execute("DROP INDEX idx_entries_day")
            conn.execute("DROP INDEX idx_entries_day_start")
            conn.execute("DROP INDEX idx_entries_user_sync")
            report(conn, "with no index on user_id or day", args, baseline)
            conn.execute("ROLLBACK")
    finally:
        with psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def report(conn: psycopg.Connection, label: str, args: argparse.Namespace, baseline: float | None = None) -> float:
    plan = [row[0] for row in conn.execute("EXPLAIN " + QUERY, (1, "2023-03-01", "2023-03-31"))]
    scans = [line.strip().lstrip("-> ") for line in plan if "Scan" in line]
    access = next((scan for scan in scans if " using " in scan or " on idx_" in scan), scans[-1])
    median = time_query(conn, args.users, args.runs)
    ratio = f"  {median / baseline:5.1f}x the indexed time" if baseline else ""
    print(f"{label:34} median {median * 1000:8.3f} ms{ratio}   ({access.split('  (')[0]})")
    return median


def time_query(conn: psycopg.Connection, users: int, runs: int) -> float:
    durations = []
    for run in range(runs):
        params = (1 + run % users, "2023-03-01", "2023-03-31")
        started = time.perf_counter()
        conn.execute(QUERY, params).fetchall()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


if __name__ == "__main__":
    main()
