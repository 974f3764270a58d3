"""Bulk test data for benchmarks and plan tests: users, projects of every billing type, activities, entries.

Written in SQL (`generate_series`, a recursive CTE on SQLite) so that millions of entries take seconds, not
minutes: the rows never leave the database server.
"""

from __future__ import annotations

import sqlite3

import psycopg

PROJECTS = 8
ACTIVITIES = 5


def fill(conn: psycopg.Connection, rows: int, users: int) -> None:
    """`rows` entries spread evenly over `users` DEV users, eight projects and five activities, from 2022 on.

    Entry n belongs to user 1 + n % users; each user has about one entry per day over `rows / users` days. The
    even projects book time in a ticket system: their entries are synced, every 50th one still pending.
    """
    conn.execute(
        "INSERT INTO users (username, display_name, type, locale, active, created_at, updated_at) "
        "SELECT 'user' || n, 'User ' || n, 'DEV', 'en', true, now(), now() FROM generate_series(1, %s) n",
        (users,),
    )
    conn.execute(
        "INSERT INTO customers (name, active, global, created_at, updated_at) VALUES ('C', true, false, now(), now())"
    )
    conn.execute(
        "INSERT INTO ticket_systems (name, type, base_url, enabled, book_time, config, created_at, updated_at) "
        "VALUES ('Tracker', 'redmine', 'http://127.0.0.1:9', true, true, '{}', now(), now())"
    )
    conn.execute(
        "INSERT INTO projects (customer_id, name, active, global, ticket_prefixes, subtickets, billing, "
        "ticket_system_id, created_at, updated_at) SELECT 1, 'P' || n, true, false, '[]', '[]', n %% 4, "
        "CASE WHEN n %% 2 = 0 THEN 1 END, now(), now() FROM generate_series(1, %s) n",
        (PROJECTS,),
    )
    conn.execute(
        "INSERT INTO activities (name, needs_ticket, factor, created_at, updated_at) "
        "SELECT 'A' || n, false, 0.25 * n, now(), now() FROM generate_series(1, %s) n",
        (ACTIVITIES,),
    )
    conn.execute(
        """
        INSERT INTO entries (uuid, user_id, customer_id, project_id, activity_id, day, start, "end", duration, ticket,
                             description, class, synced_to_ticketsystem, sync_attempts, version, created_at, updated_at,
                             sync_state)
        SELECT gen_random_uuid(), 1 + n %% %(users)s, 1, 1 + n %% %(projects)s, 1 + n %% %(activities)s,
               date '2022-01-01' + (n / %(users)s) %% 1500,
               time '09:00', time '10:00', 60, '', 'work', 0, synced, 0, 1, now(), now(),
               CASE WHEN linked AND synced THEN 'synced' WHEN linked THEN 'pending' END
        FROM generate_series(1, %(rows)s) n,
             LATERAL (SELECT (1 + n %% %(projects)s) %% 2 = 0 AS linked) AS project,
             LATERAL (SELECT project.linked AND n %% 50 <> 0 AS synced) AS state
        """,
        {"rows": rows, "users": users, "projects": PROJECTS, "activities": ACTIVITIES},
    )
    conn.execute("ANALYZE")


def fill_sqlite(conn: sqlite3.Connection, rows: int, users: int) -> None:
    """The same data as `fill`, on SQLite (a recursive CTE counts the rows)."""
    now = "2026-01-01 00:00:00.000000"
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO users (username, display_name, type, locale, active, created_at, updated_at) "
        "SELECT 'user' || i, 'User ' || i, 'DEV', 'en', 1, ?, ? FROM n",
        (users, now, now),
    )
    conn.execute(
        "INSERT INTO customers (name, active, global, created_at, updated_at) VALUES ('C', 1, 0, ?, ?)", (now, now)
    )
    conn.execute(
        "INSERT INTO ticket_systems (name, type, base_url, enabled, book_time, config, created_at, updated_at) "
        "VALUES ('Tracker', 'redmine', 'http://127.0.0.1:9', 1, 1, '{}', ?, ?)",
        (now, now),
    )
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO projects (customer_id, name, active, global, ticket_prefixes, subtickets, billing, "
        "ticket_system_id, created_at, updated_at) SELECT 1, 'P' || i, 1, 0, '[]', '[]', i % 4, "
        "CASE WHEN i % 2 = 0 THEN 1 END, ?, ? FROM n",
        (PROJECTS, now, now),
    )
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO activities (name, needs_ticket, factor, created_at, updated_at) "
        "SELECT 'A' || i, 0, 0.25 * i, ?, ? FROM n",
        (ACTIVITIES, now, now),
    )
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
        INSERT INTO entries (uuid, user_id, customer_id, project_id, activity_id, day, start, "end", duration, ticket,
                             description, class, synced_to_ticketsystem, sync_attempts, version, created_at,
                             updated_at, sync_state)
        SELECT lower(hex(randomblob(16))), 1 + i % :users, 1, 1 + i % :projects, 1 + i % :activities,
               date('2022-01-01', '+' || ((i / :users) % 1500) || ' days'),
               '09:00:00.000000', '10:00:00.000000', 60, '', 'work', 0,
               (1 + i % :projects) % 2 = 0 AND i % 50 <> 0, 0, 1, :now, :now,
               CASE WHEN (1 + i % :projects) % 2 = 0 AND i % 50 <> 0 THEN 'synced'
                    WHEN (1 + i % :projects) % 2 = 0 THEN 'pending' END
        FROM n
        """,
        {"rows": rows, "users": users, "projects": PROJECTS, "activities": ACTIVITIES, "now": now},
    )
    conn.commit()
    conn.execute("ANALYZE")
