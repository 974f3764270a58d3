"""On 200k entries, PostgreSQL answers a user's reports from an index, not by reading every entry."""

from __future__ import annotations

from datetime import date
from itertools import product
from typing import Any

import psycopg
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from bench.fill import fill
from gateway.core.auth.caller import Caller
from gateway.core.enums import UserType
from gateway.core.reports.sync_report import sync_status_statement
from gateway.core.reports.time_report import Dimension, TimeFilter, time_report_statement
from tests.support import pg_connect

ROWS = 200_000
USERS = 100
GROUPINGS = [[], [Dimension.PROJECT, Dimension.MONTH], [Dimension.ACTIVITY, Dimension.WEEK, Dimension.DAY]]
USER_INDEXES = ["idx_entries_user_day", "idx_entries_user_project", "idx_entries_user_sync"]
DAY_INDEXES = ["idx_entries_day", "idx_entries_day_start"]


def explain(conn: psycopg.Connection, statement: Select[Any]) -> tuple[str, str]:
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return sql, "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql))  # type: ignore[arg-type]


def plan_of(conn: psycopg.Connection, user_type: UserType, group_by: list[Dimension]) -> tuple[str, str]:
    caller = Caller(user_id=7, username="user7", type=user_type)
    filters = TimeFilter(first_day=date(2023, 1, 1), last_day=date(2023, 3, 31), user_id=7)
    return explain(conn, time_report_statement(group_by, caller, filters))


def test_time_report_for_a_user_and_a_day_range_uses_an_index(pg_url: str) -> None:
    with pg_connect(pg_url, autocommit=True) as conn:
        fill(conn, ROWS, USERS)
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (ROWS,)
        failures = []
        for user_type, group_by in product([UserType.ADMIN, UserType.PL, UserType.DEV], GROUPINGS):
            sql, plan = plan_of(conn, user_type, group_by)
            if "Seq Scan on entries" in plan or " on entries" not in plan:
                failures.append(f"{user_type} grouped by {group_by}:\n{sql}\n\n{plan}")
        assert not failures, "the report reads every entry:\n\n" + "\n\n".join(failures)

        # A user's sync status (a DEV's own, or an ADMIN's for one user) reads that user's entries by index.
        for caller in (Caller(7, "user7", UserType.DEV), Caller(1, "user1", UserType.ADMIN)):
            sql, plan = explain(conn, sync_status_statement(caller, user_id=7))
            assert "idx_entries_user_sync" in plan, f"{sql}\n\n{plan}"

        # A project's year by activity and month reads that project's days, not every entry of the project.
        for user_type in (UserType.ADMIN, UserType.DEV):
            year = TimeFilter(first_day=date(2023, 1, 1), last_day=date(2023, 12, 31), project_id=2)
            caller = Caller(user_id=7, username="user7", type=user_type)
            sql, plan = explain(conn, time_report_statement([Dimension.ACTIVITY, Dimension.MONTH], caller, year))
            assert "idx_entries_project_day" in plan, f"{sql}\n\n{plan}"

        # The check can fail: without the indexes on user_id and day the same query scans the table.
        conn.execute("BEGIN")
        for index in USER_INDEXES + DAY_INDEXES:
            conn.execute(f"DROP INDEX {index}")  # type: ignore[arg-type]
        _sql, plan = plan_of(conn, UserType.ADMIN, GROUPINGS[1])
        conn.execute("ROLLBACK")
        assert "Seq Scan on entries" in plan, plan
