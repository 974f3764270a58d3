"""The `gateway` console script, run as a user runs it: a separate process with settings in its environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from gateway.core import migrator
from gateway.core.vault import KeyRing
from tests.support import Run, assert_one_line_error, pg_connect


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("postgresql+psycopg://app:hunter2@127.0.0.1:1/gateway", "cannot reach the database at"),
        ("mysql://app@127.0.0.1/gateway", "supports sqlite and postgresql"),
        ("not a url at all", "is not a database URL"),
    ],
)
def test_serve_with_a_bad_database_url_exits_with_one_readable_line(
    run_gateway: Run, key_line: str, database_url: str, expected: str
) -> None:
    result = run_gateway("serve", DATABASE_URL=database_url, GATEWAY_SECRET_KEYS=key_line)
    assert_one_line_error(result, expected)
    assert "hunter2" not in result.stderr


def test_serve_refuses_to_start_without_a_key_ring(run_gateway: Run, sqlite_url: str) -> None:
    result = run_gateway("serve", DATABASE_URL=sqlite_url)
    assert_one_line_error(result, "no secret key ring configured")


def test_serve_refuses_a_database_without_schema(run_gateway: Run, fresh_pg_url: str, key_line: str) -> None:
    result = run_gateway("serve", DATABASE_URL=fresh_pg_url, GATEWAY_SECRET_KEYS=key_line)
    assert_one_line_error(result, "run `gateway db upgrade`")


def test_worker_without_redis_url_exits_with_one_readable_line(
    run_gateway: Run, sqlite_url: str, key_line: str
) -> None:
    result = run_gateway("worker", DATABASE_URL=sqlite_url, GATEWAY_SECRET_KEYS=key_line)
    assert_one_line_error(result, "REDIS_URL is not set")


def test_db_upgrade_current_and_downgrade(run_gateway: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    head = migrator.head_revision()
    previous = ScriptDirectory(str(migrator.script_location())).get_revision(head).down_revision
    upgraded = run_gateway("db", "upgrade", DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"{url} is at {head} (was base)"
    again = run_gateway("db", "upgrade", DATABASE_URL=url)
    assert again.stdout.strip() == f"{url} is at {head} (unchanged)"

    assert run_gateway("db", "current", DATABASE_URL=url).stdout.strip() == f"{url} is at {head} (up to date)"

    assert run_gateway("db", "downgrade", DATABASE_URL=url).stdout.strip() == f"{url} is at {previous} (was {head})"
    behind = run_gateway("db", "current", DATABASE_URL=url).stdout.strip()
    assert behind == f"{url} is at {previous} (behind head {head}: run `gateway db upgrade`)"

    assert (
        run_gateway("db", "downgrade", "base", DATABASE_URL=url).stdout.strip() == f"{url} is at base (was {previous})"
    )


def test_db_upgrade_to_an_unknown_revision_is_one_line(run_gateway: Run, tmp_path: Path) -> None:
    result = run_gateway("db", "upgrade", "9999", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert_one_line_error(result, "migration failed")


def test_demo_twice_leaves_one_copy_of_the_demo_data(run_gateway: Run, pg_url: str) -> None:
    first = run_gateway("demo", DATABASE_URL=pg_url)
    assert first.returncode == 0, first.stderr
    assert "demo data created (15 entries)" in first.stdout
    assert "log in as admin with password " in first.stdout

    second = run_gateway("demo", DATABASE_URL=pg_url)
    assert second.returncode == 0, second.stderr
    assert "demo data already present; nothing changed" in second.stdout

    with pg_connect(pg_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM customers), (SELECT count(*) FROM projects),"
            " (SELECT count(*) FROM activities), (SELECT count(*) FROM entries)"
        ).fetchone()
    assert counts == (1, 1, 1, 3, 15)


def test_user_create_reads_the_password_from_stdin(run_gateway: Run, sqlite_url: str) -> None:
    created = run_gateway(
        "user", "create", "ada", "--admin", "--password-stdin", stdin="a long password\n", DATABASE_URL=sqlite_url
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "created ADMIN user ada"

    again = run_gateway("user", "create", "ada", "--password-stdin", stdin="a long password\n", DATABASE_URL=sqlite_url)
    assert_one_line_error(again, "a user named 'ada' already exists")

    weak = run_gateway("user", "create", "bob", "--password-stdin", stdin="short\n", DATABASE_URL=sqlite_url)
    assert_one_line_error(weak, "at least 10 characters")

    no_terminal = run_gateway("user", "create", "carol", DATABASE_URL=sqlite_url)
    assert_one_line_error(no_terminal, "--password-stdin")


def test_keys_generate_writes_a_private_key_file_once(run_gateway: Run, tmp_path: Path) -> None:
    key_file = tmp_path / ".gateway" / "secret-keys"
    created = run_gateway("keys", "generate", "--file", str(key_file))
    assert created.returncode == 0, created.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    ring = KeyRing.parse(key_file.read_text())
    assert len(ring.key_ids) == 1

    content = key_file.read_text()
    again = run_gateway("keys", "generate", "--file", str(key_file))
    assert_one_line_error(again, "exists already; it was left unchanged")
    assert key_file.read_text() == content


def test_keys_generate_prints_a_usable_key_line(run_gateway: Run) -> None:
    result = run_gateway("keys", "generate", "--id", "2026-11")
    assert result.returncode == 0
    assert KeyRing.parse(result.stdout).key_ids == ("2026-11",)


def test_unknown_commands_get_usage_help_not_a_traceback(run_gateway: Run) -> None:
    result = run_gateway("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr
