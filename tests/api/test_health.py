from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.connectors import hookimpl
from gateway.core.plugins import build_registry
from gateway.core.settings import Settings
from gateway.core.vault import KeyRing
from tests.api.conftest import AppClientFactory


async def test_live_answers_without_touching_dependencies(make_client: AppClientFactory) -> None:
    async with make_client("postgresql+psycopg://nobody@127.0.0.1:1/none") as client:
        response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_ready_checks_the_database_and_redis(
    make_client: AppClientFactory, database_url: str, redis_url: str
) -> None:
    async with make_client(database_url, redis_url) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert response.json()["status"] == "ok"
    assert (checks["database"], checks["redis"]) == ({"status": "ok"}, {"status": "ok"})
    assert checks["plugins"] == {"status": "ok", "detail": "connectors: gitlab, jira, redmine, tasklog, tasklog-token"}


async def test_ready_without_redis_configured_is_ready(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"status": "not configured"}


@pytest.mark.parametrize("broken", ["database", "redis"])
async def test_ready_is_503_naming_what_does_not_answer(
    make_client: AppClientFactory, pg_url: str, redis_url: str, broken: str
) -> None:
    database_url = "postgresql+psycopg://nobody:pw@127.0.0.1:1/none" if broken == "database" else pg_url
    redis = "redis://127.0.0.1:1/0" if broken == "redis" else redis_url
    async with make_client(database_url, redis) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"][broken]["status"] == "fail"
    assert body["checks"][broken]["detail"]
    assert ":pw@" not in response.text


async def test_ready_is_503_when_the_schema_is_not_migrated(make_client: AppClientFactory, fresh_pg_url: str) -> None:
    async with make_client(fresh_pg_url) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert "gateway db upgrade" in response.json()["checks"]["database"]["detail"]


class BrokenPlugin:
    @hookimpl
    def gateway_register_connectors(self) -> list[type]:
        raise RuntimeError("boom")


async def test_a_broken_plugin_degrades_readiness_without_failing_it(key_ring: KeyRing, sqlite_url: str) -> None:
    registry = build_registry(load_entry_points=False, plugins={"broken": BrokenPlugin()})
    app = create_app(Settings(database_url=sqlite_url, key_ring=key_ring), registry=registry)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["plugins"] == {
        "status": "degraded",
        "detail": "broken: gateway_register_connectors raised RuntimeError: boom",
    }
