"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import make_url

GATEWAY = str(Path(sys.executable).parent / "gateway")
Run = Callable[..., subprocess.CompletedProcess[str]]


def libpq_conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL, for talking to the database with psycopg directly."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_connect(database_url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(libpq_conninfo(database_url), autocommit=autocommit)


def clean_environment(**values: str) -> dict[str, str]:
    """The process environment without any gateway settings of the developer's, plus `values`."""
    names = ("DATABASE_URL", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k not in names}
    env.update(values)
    return env


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exactly one line says what went wrong, and it is the last one (log lines may come before it)."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], result.stderr
    assert expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
