"""The Alembic revisions: they build the models' schema, go down and up again, and encrypt stored tokens."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from gateway.core import migrator
from gateway.core.db import sync_url
from gateway.core.errors import KeyRingError
from gateway.core.models import Base
from gateway.core.vault import KeyRing, is_ciphertext
from tests.support import pg_connect

SEED_INDEXES = {
    "idx_entries_user_day": "(user_id, day DESC)",
    "idx_entries_day": "(day)",
    "idx_entries_project": "(project_id)",
    "idx_entries_customer": "(customer_id)",
    "idx_entries_day_start": "(day DESC, start DESC)",
    "idx_entries_user_project": "(user_id, project_id)",
    "idx_entries_user_sync": "(user_id, synced_to_ticketsystem)",
}


def schema_differences(database_url: str) -> list[object]:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(differences)


def table_names(database_url: str) -> set[str]:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    migrator.upgrade(empty_database_url)
    assert {"entries", "users", "users_ticket_systems", "tickets"} <= table_names(empty_database_url)

    migrator.downgrade(empty_database_url, "base")
    assert table_names(empty_database_url) <= {"alembic_version"}

    migrator.upgrade(empty_database_url)
    assert schema_differences(empty_database_url) == []


def test_models_and_migrations_agree(database_url: str) -> None:
    # The equivalent of `alembic check`: autogenerate finds nothing to do at head.
    assert schema_differences(database_url) == []


def test_every_entity_has_its_table(database_url: str) -> None:
    expected = {
        "users", "teams", "teams_users", "teams_customers", "customers", "projects", "activities", "accounts",
        "contracts", "presets", "holidays", "ticket_systems", "users_ticket_systems", "tickets", "entries",
        "entry_revisions", "api_tokens", "worklog_sync_states", "sync_runs",
    }  # fmt: skip
    assert expected <= table_names(database_url)


def test_seed_indexes_have_exact_names_and_column_orders(pg_url: str) -> None:
    with pg_connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'entries' AND indexname LIKE 'idx_%%'"
        ).fetchall()
    definitions = dict(rows)
    for name, columns in SEED_INDEXES.items():
        assert definitions.get(name) == f"CREATE INDEX {name} ON public.entries USING btree {columns}"


def test_user_day_query_uses_idx_entries_user_day_on_50k_rows(pg_url: str) -> None:
    with pg_connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO users (username, display_name, type, locale, active, created_at, updated_at)
            SELECT 'user' || n, 'User ' || n, 'DEV', 'en', true, now(), now() FROM generate_series(1, 50) n;
            INSERT INTO customers (name, active, global, created_at, updated_at)
                VALUES ('C', true, false, now(), now());
            INSERT INTO projects (customer_id, name, active, global, ticket_prefixes, subtickets, billing,
                                  created_at, updated_at)
                VALUES (1, 'P', true, false, '[]', '[]', 0, now(), now());
            INSERT INTO activities (name, needs_ticket, factor, created_at, updated_at)
                VALUES ('A', false, 1, now(), now());
            INSERT INTO entries (uuid, user_id, customer_id, project_id, activity_id, day, start, "end", duration,
                                 ticket, description, class, synced_to_ticketsystem, sync_attempts, version,
                                 created_at, updated_at)
            SELECT gen_random_uuid(), 1 + n % 50, 1, 1, 1, date '2024-01-01' + (n / 50) % 1000, time '09:00',
                   time '10:00', 60, '', '', 0, false, 0, 1, now(), now()
            FROM generate_series(1, 60000) n;
            ANALYZE entries;
            """
        )
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (60000,)
        conn.execute(
            "PREPARE by_user_day(int, date, date) AS SELECT * FROM entries WHERE user_id = $1 AND day BETWEEN $2 AND $3"
        )
        # Force a generic plan: the one a parameterised query from the API would use.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        plan = "\n".join(
            row[0] for row in conn.execute("EXPLAIN EXECUTE by_user_day(7, '2025-01-01', '2025-01-31')").fetchall()
        )
    assert "idx_entries_user_day" in plan, plan


def _insert_clear_tokens(database_url: str) -> None:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, display_name, type, locale, active, created_at, updated_at) "
                "VALUES (1, 'ada', 'Ada', 'DEV', 'en', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO ticket_systems (id, name, type, base_url, enabled, book_time, config, secrets, "
                "created_at, updated_at) VALUES (1, 'jira', 'jira', 'https://jira.example', true, true, '{}', "
                ":secrets, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"secrets": json.dumps({"client_secret": "app-secret-123"})},
        )
        connection.execute(
            text(
                "INSERT INTO users_ticket_systems (id, user_id, ticket_system_id, enabled, avoid_connection, "
                "access_token, token_secret, created_at, updated_at) VALUES (1, 1, 1, true, false, "
                "'clear-access-token', 'clear-token-secret', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def _stored_tokens(database_url: str) -> tuple[str, str, str]:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    with engine.connect() as connection:
        access, secret = connection.execute(
            text("SELECT access_token, token_secret FROM users_ticket_systems WHERE id = 1")
        ).one()
        secrets = connection.execute(text("SELECT CAST(secrets AS TEXT) FROM ticket_systems WHERE id = 1")).scalar_one()
    engine.dispose()
    return access, secret, secrets


def test_encryption_migration_encrypts_clear_tokens_and_downgrade_decrypts(
    empty_database_url: str, key_ring: KeyRing
) -> None:
    migrator.upgrade(empty_database_url, "0002")
    _insert_clear_tokens(empty_database_url)

    migrator.upgrade(empty_database_url, "0003", key_ring=key_ring)
    stored = _stored_tokens(empty_database_url)
    assert all(is_ciphertext(value) for value in stored)
    assert "clear-access-token" not in "".join(stored)
    assert "app-secret-123" not in "".join(stored)
    access, secret, secrets = (key_ring.decrypt(value) for value in stored)
    assert (access, secret) == ("clear-access-token", "clear-token-secret")
    assert json.loads(secrets) == {"client_secret": "app-secret-123"}

    migrator.downgrade(empty_database_url, "0002", key_ring=key_ring)
    access, secret, secrets = _stored_tokens(empty_database_url)
    assert (access, secret) == ("clear-access-token", "clear-token-secret")
    assert json.loads(secrets) == {"client_secret": "app-secret-123"}


def test_encryption_migration_without_key_ring_refuses_and_changes_nothing(empty_database_url: str) -> None:
    migrator.upgrade(empty_database_url, "0002")
    _insert_clear_tokens(empty_database_url)

    with pytest.raises(KeyRingError, match="key ring is needed to encrypt"):
        migrator.upgrade(empty_database_url, "head", key_ring=None)

    assert _stored_tokens(empty_database_url)[:2] == ("clear-access-token", "clear-token-secret")
    engine = create_engine(sync_url(empty_database_url), poolclass=NullPool)
    with engine.connect() as connection:
        assert migrator.current_revision_of(connection) == "0002"
    engine.dispose()


def test_encryption_migration_needs_no_key_on_a_database_without_tokens(empty_database_url: str) -> None:
    migrator.upgrade(empty_database_url, "head", key_ring=None)
    assert schema_differences(empty_database_url) == []
