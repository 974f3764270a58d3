"""Fixtures on real services: PostgreSQL, SQLite and Redis.

- PostgreSQL: `TEST_DATABASE_URL` names the server (default `postgresql+psycopg://postgres@127.0.0.1:5432/postgres`);
  each pytest-xdist worker creates its own throwaway database, migrates it once, and every test starts from
  empty tables. Tests that need a database of their own (migrations) use `fresh_pg_url`.
- SQLite: a migrated template file is copied for every test.
- Redis: `TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); each xdist worker uses its own database number,
  flushed before every test.

Outside CI a missing service skips the tests that need it, naming the service; with `CI=true` it fails them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.core import migrator
from gateway.core.db import create_engine, create_session_factory
from gateway.core.errors import reason_of
from gateway.core.logs import configure_logging
from gateway.core.models import Base
from gateway.core.vault import KeyRing, generate_key_line
from tests.ldap_server import LdapServer, slapd_available, start_ldap_server
from tests.redmine_server import RedmineServer, redmine_available, start_redmine
from tests.support import GATEWAY, Run, clean_environment, libpq_conninfo, pg_connect

PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    # As the CLI does before serving: without it structlog's default renders every logged exception with its
    # local variables, which takes seconds and would stall the event loop of apps built by tests.
    configure_logging("INFO", "console")
    # Modules that need the example connector skip without it (a quick run straight from a checkout); CI must not.
    if IN_CI and importlib.util.find_spec("example_connector") is None:
        raise pytest.UsageError(
            "the example connector plugin is not installed (CI=true: run `make test`, which installs it)"
        )


def service_missing(service: str, where: str, reason: object) -> None:
    message = f"{service} is not available at {where}: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


# --- PostgreSQL -----------------------------------------------------------------------------------------------


def _with_database(database: str) -> str:
    return make_url(PG_SERVER_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Callable[[], str]]:
    """A factory of throwaway PostgreSQL databases, all dropped at the end of the session."""
    try:
        admin = psycopg.connect(libpq_conninfo(PG_SERVER_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", make_url(PG_SERVER_URL).render_as_string(), reason_of(exc))
    created: list[str] = []

    def create_database() -> str:
        name = f"gw_test_{uuid.uuid4().hex[:12]}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _with_database(name)

    yield create_database
    for name in created:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture
def fresh_pg_url(pg_server: Callable[[], str]) -> str:
    """An empty PostgreSQL database of this test's own (no schema)."""
    return pg_server()


@pytest.fixture(scope="session")
def _migrated_pg_url(pg_server: Callable[[], str]) -> str:
    url = pg_server()
    migrator.upgrade(url)
    return url


@pytest.fixture
def pg_url(_migrated_pg_url: str) -> str:
    """A migrated PostgreSQL database with empty tables."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with pg_connect(_migrated_pg_url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")  # type: ignore[arg-type]
    return _migrated_pg_url


# --- SQLite ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrator.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database file of this test's own."""
    path = tmp_path / "gateway.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


# --- Either database ------------------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database: the test runs once on PostgreSQL and once on SQLite."""
    fixture = "pg_url" if request.param == "postgresql" else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


# --- Redis ----------------------------------------------------------------------------------------------------


def _redis_db_number(worker_id: str) -> int:
    # Database 0 is left to humans; xdist workers gw0, gw1, … take 1, 2, …
    return 1 if worker_id == "master" else 1 + int(worker_id.removeprefix("gw")) % 15


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of this xdist worker's own, flushed before the test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
    url = f"{REDIS_SERVER_URL.rstrip('/')}/{_redis_db_number(worker)}"
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        service_missing("Redis", REDIS_SERVER_URL, reason_of(exc))
    finally:
        client.close()
    return url


# --- OpenLDAP -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    """slapd on a loopback port of its own, with the people of `tests.ldap_server.PEOPLE`."""
    if not slapd_available():
        service_missing("OpenLDAP (Debian packages slapd and ldap-utils)", "this machine", "slapd is not installed")
    server = start_ldap_server(tmp_path_factory.mktemp("ldap"))
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


# --- Redmine --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redmine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedmineServer]:
    """A real Redmine 5 on a loopback port, with a copy of the installed database of this xdist worker's own."""
    if not redmine_available():
        service_missing("Redmine (Debian packages redmine, redmine-sqlite, thin)", "this machine", "not installed")
    started = time.monotonic()
    server = start_redmine(tmp_path_factory.mktemp("redmine"))
    print(f"Redmine started in {time.monotonic() - started:.1f} s")
    yield server
    server.process.terminate()
    server.process.wait(timeout=30)


# --- The console script --------------------------------------------------------------------------------------


@pytest.fixture
def run_gateway(tmp_path: Path) -> Run:
    """Run the installed `gateway` console script in `tmp_path` with exactly the settings given."""

    def run(
        *args: str, stdin: str | None = None, timeout: float = 60, **environment: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GATEWAY, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=clean_environment(**environment),
            timeout=timeout,
            check=False,
        )

    return run


# --- Secrets --------------------------------------------------------------------------------------------------


@pytest.fixture
def key_line() -> str:
    return generate_key_line("test-key")


@pytest.fixture
def key_ring(key_line: str) -> KeyRing:
    return KeyRing.parse(key_line)
