"""CSRF protection and security headers, over HTTP (the browser tests in tests/web click through the same)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.api.csrf import CSRF_COOKIE, CSRF_HEADER
from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.core.users import set_password
from gateway.core.vault import KeyRing
from tests.api.world import World
from tests.support import run_in_session

Client = AsyncTestClient[Litestar]
PASSWORD = "a long enough password"


@pytest.fixture
async def raw_client(world: World, key_ring: KeyRing) -> AsyncIterator[Client]:
    """A client that sends exactly what a test says: no CSRF header unless asked."""
    await run_in_session(world.database_url, lambda session: set_password(session, "dev_a", PASSWORD))
    app = create_app(Settings(database_url=world.database_url, key_ring=key_ring))
    async with AsyncTestClient(app=app) as client:
        yield client


async def log_in(client: Client) -> str:
    response = await client.post("/api/auth/login", json={"username": "dev_a", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = client.cookies.get(CSRF_COOKIE)
    assert token, "the login response gives the browser its CSRF token"
    return token


def booking(world: World) -> dict[str, object]:
    return {
        "day": "2026-11-24",
        "start": "09:00",
        "end": "10:00",
        "project_id": world.id("projects", "Alpha Web"),
        "activity_id": world.id("activities", "Meeting"),
    }


async def test_a_write_with_the_session_cookie_needs_the_csrf_token(raw_client: Client, world: World) -> None:
    token = await log_in(raw_client)
    refused = await raw_client.post("/api/entries", json=booking(world))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "CSRF token" in refused.json()["detail"]
    wrong = await raw_client.post("/api/entries", json=booking(world), headers={CSRF_HEADER: token[:-2] + "xx"})
    assert wrong.status_code == 403
    accepted = await raw_client.post("/api/entries", json=booking(world), headers={CSRF_HEADER: token})
    assert accepted.status_code == 201, accepted.text
    # Reading needs no token.
    assert (await raw_client.get("/api/entries")).status_code == 200


async def test_a_personal_api_token_needs_no_csrf_token(raw_client: Client, world: World) -> None:
    response = await raw_client.post("/api/entries", json=booking(world), headers=world.headers("dev_a"))
    assert response.status_code == 201, response.text


async def test_a_web_form_post_without_the_token_gets_the_403_page_and_changes_nothing(
    raw_client: Client, world: World
) -> None:
    await log_in(raw_client)
    refused = await raw_client.post("/logout", data={}, headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "CSRF token" in refused.text
    assert (await raw_client.get("/api/me")).status_code == 200  # still logged in

    token = raw_client.cookies.get(CSRF_COOKIE)
    done = await raw_client.post(
        "/logout", data={"_csrf_token": token}, headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert (await raw_client.get("/api/me")).status_code == 401


async def test_the_login_form_needs_the_token_too(raw_client: Client) -> None:
    page = await raw_client.get("/login", headers={"Accept": "text/html"})
    token = raw_client.cookies.get(CSRF_COOKIE)
    assert token
    assert f'value="{token}"' in page.text
    form = {"username": "dev_a", "password": PASSWORD}
    assert (await raw_client.post("/login", data=form)).status_code == 403
    logged_in = await raw_client.post("/login", data={**form, "_csrf_token": token}, follow_redirects=False)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/week"


async def test_pages_and_api_answers_carry_the_security_headers(raw_client: Client) -> None:
    for path, accept in (("/login", "text/html"), ("/api/me", "application/json"), ("/no/such/page", "text/html")):
        response = await raw_client.get(path, headers={"Accept": accept})
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


async def test_unknown_pages_are_a_page_for_browsers_and_problem_details_for_programs(raw_client: Client) -> None:
    page = await raw_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "does not exist, or it is not yours to see" in page.text
    problem = await raw_client.get("/no/such/page")
    assert problem.headers["content-type"] == "application/problem+json"


async def test_web_pages_are_not_in_the_openapi_description(raw_client: Client) -> None:
    paths = (await raw_client.get("/schema/openapi.json")).json()["paths"]
    assert all(path.startswith("/api/") or path.startswith("/health") for path in paths), sorted(paths)
