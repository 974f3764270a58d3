"""The time report and its XLSX export on PostgreSQL: query times with and without the indexes, export memory.

    python -m bench.time_report [--rows 200000] [--users 100] [--runs 30]

Creates a throwaway database on BENCH_DATABASE_URL's server (default: the local PostgreSQL), migrates and fills
it (see `bench.fill`), then prints:
- the median time of a user's quarter grouped by project and month, and of everyone's month grouped by user and
  day, with all indexes and without those on user_id and day (the ratio is what the indexes buy);
- a year of everyone's time by user and day written as XLSX: rows, bytes, seconds, and the peak Python memory
  while streaming, against the same rows held in a list first.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.fill import fill
from gateway.core import migrator
from gateway.core.auth.caller import Caller
from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import UserType
from gateway.core.reports.export import time_report_table, xlsx_stream
from gateway.core.reports.time_report import Dimension, TimeFilter, stream_time_report, time_report, time_totals

ADMIN = Caller(user_id=1, username="user1", type=UserType.ADMIN)
DROPPED = ["idx_entries_user_day", "idx_entries_user_project", "idx_entries_user_sync", "idx_entries_day"]
DROPPED += ["idx_entries_day_start"]
QUERIES = {
    "user's quarter by project, month": (
        [Dimension.PROJECT, Dimension.MONTH],
        TimeFilter(first_day=date(2023, 1, 1), last_day=date(2023, 3, 31), user_id=7),
    ),
    "everyone's month by user, day": (
        [Dimension.USER, Dimension.DAY],
        TimeFilter(first_day=date(2023, 3, 1), last_day=date(2023, 3, 31)),
    ),
}


async def median_seconds(session: AsyncSession, group_by: list[Dimension], filters: TimeFilter, runs: int) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        await time_report(session, ADMIN, group_by, filters)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


async def queries(database_url: str, runs: int) -> None:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        baseline = {name: await median_seconds(session, *query, runs) for name, query in QUERIES.items()}
        for index in DROPPED:
            await session.execute(text(f"DROP INDEX {index}"))
        for name, query in QUERIES.items():
            without = await median_seconds(session, *query, runs)
            print(
                f"{name:36} {baseline[name] * 1000:8.2f} ms with indexes, {without * 1000:8.2f} ms without"
                f"  ({without / baseline[name]:5.1f}x)"
            )
        await session.rollback()
    await engine.dispose()


async def export(database_url: str) -> None:
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    group_by = [Dimension.USER, Dimension.DAY]
    filters = TimeFilter(first_day=date(2022, 1, 1), last_day=date(2022, 12, 31))

    async def write(buffered: bool) -> tuple[int, int]:
        async with factory() as session:
            rows = stream_time_report(session, ADMIN, group_by, filters)
            if buffered:
                rows = replay([row async for row in rows])
            table = time_report_table(group_by, filters, rows, lambda: time_totals(session, ADMIN, filters))
            size = 0
            async for chunk in xlsx_stream(table):
                size += len(chunk)
            return size, (await time_totals(session, ADMIN, filters)).entries

    for label, buffered in (("streamed", False), ("rows held in a list", True)):
        started = time.perf_counter()
        size, entries = await write(buffered)
        seconds = time.perf_counter() - started
        tracemalloc.start()
        await write(buffered)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"XLSX, a year by user and day, {label:20}: {entries} entries, {size / 1e6:5.2f} MB in "
            f"{seconds:5.2f} s, peak Python memory {peak / 1e6:6.2f} MB"
        )
    await engine.dispose()


async def replay(rows: list[Any]) -> AsyncIterator[Any]:
    for row in rows:
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    libpq = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrator.upgrade(database_url)
        conninfo = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            fill(conn, args.rows, args.users)
        print(f"entries: {args.rows}, users: {args.users}, runs: {args.runs}")
        asyncio.run(queries(database_url, args.runs))
        asyncio.run(export(database_url))
    finally:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
