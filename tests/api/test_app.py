from __future__ import annotations

import json
import re

import pytest
import structlog
from structlog.testing import capture_logs

from tests.api.conftest import AppClientFactory


async def test_every_response_carries_a_request_id(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        generated = await client.get("/health/live")
        echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
        refused = await client.get("/health/live", headers={"X-Request-ID": "bad id\r\ninjected"})
    assert len(generated.headers["x-request-id"]) == 32
    assert echoed.headers["x-request-id"] == "abc-123"
    assert refused.headers["x-request-id"] != "bad id\r\ninjected"


@pytest.mark.parametrize(("path", "status"), [("/health/live", 200), ("/no/such/path", 404)])
async def test_requests_are_logged_once_with_their_request_id(
    make_client: AppClientFactory, sqlite_url: str, path: str, status: int
) -> None:
    async with make_client(sqlite_url) as client:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            await client.get(path, headers={"X-Request-ID": "trace-me"})
    requests = [event for event in logs if event["event"] == "request"]
    assert len(requests) == 1
    assert requests[0]["request_id"] == "trace-me"
    assert (requests[0]["status"], requests[0]["path"]) == (status, path)


async def test_unknown_paths_answer_with_problem_details(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        response = await client.get("/no/such/path", headers={"X-Request-ID": "r1"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": "/no/such/path",
        "request_id": "r1",
    }


async def test_metrics_count_requests_by_path_template(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        for _ in range(3):
            await client.get("/health/live")
        metrics = (await client.get("/metrics")).text
    request_lines = [line for line in metrics.splitlines() if line.startswith("gateway_requests_total{")]
    live = [line for line in request_lines if 'path="/health/live"' in line]
    assert live
    assert float(live[0].rsplit(" ", 1)[1]) >= 3
    assert "gateway_request_duration_seconds_bucket" in metrics


async def test_openapi_schema_is_served(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.text)
    assert schema["info"]["title"] == "TimeTracker Gateway"
    assert {"/health/live", "/health/ready"} <= set(schema["paths"])


async def test_the_api_documentation_works_offline(make_client: AppClientFactory, sqlite_url: str) -> None:
    """Swagger UI and everything it loads come from the gateway itself, never from a CDN."""
    async with make_client(sqlite_url) as client:
        page = await client.get("/schema")
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        assert assets
        for asset in assets:
            assert asset.startswith("/schema/"), asset
            assert (await client.get(asset)).status_code == 200, asset


async def test_options_lists_every_method_of_the_path(make_client: AppClientFactory, sqlite_url: str) -> None:
    # Litestar 2 alone would answer "DELETE, OPTIONS" here.
    async with make_client(sqlite_url) as client:
        item = await client.options("/api/entries/1")
        collection = await client.options("/api/entries")
    assert set(item.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE", "OPTIONS"}
    assert set(collection.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}


async def test_every_operation_documents_its_problems(make_client: AppClientFactory, sqlite_url: str) -> None:
    async with make_client(sqlite_url) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    assert set(schema["components"]["securitySchemes"]) == {"apiToken", "session"}
    api = {(method, path): operation for path, ops in schema["paths"].items() for method, operation in ops.items()}
    api = {key: operation for key, operation in api.items() if key[1].startswith("/api/")}
    for (method, path), operation in api.items():
        errors = {code: answer for code, answer in operation["responses"].items() if code.startswith(("4", "5"))}
        for code, answer in errors.items():
            assert list(answer["content"]) == ["application/problem+json"], (method, path, code)
        if operation.get("security"):
            assert "401" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
    public = {f"{method.upper()} {path}" for (method, path), operation in api.items() if not operation.get("security")}
    assert public == {"POST /api/auth/login", "POST /api/auth/logout", "POST /api/webhooks/{system_id}"}
