"""Bulk test data for benchmarks and plan tests: users, projects of every billing type, activities, entries.

Written in SQL (`generate_series`) so that hundreds of thousands of entries take seconds, not minutes.
"""

from __future__ import annotations

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
