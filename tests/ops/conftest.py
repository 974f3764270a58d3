"""Ops tests use the API tests' company and linked Tasklog system."""

from tests.api.conftest import api_database_url, linked, make_client, tasklog, world

__all__ = ["api_database_url", "linked", "make_client", "tasklog", "world"]
