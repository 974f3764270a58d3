"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import psycopg
from sqlalchemy import make_url


def libpq_conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy PostgreSQL URL, for talking to the database with psycopg directly."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_connect(database_url: str, *, autocommit: bool = False) -> psycopg.Connection:
    return psycopg.connect(libpq_conninfo(database_url), autocommit=autocommit)
