"""Logging in with local accounts, browser sessions, remember-me, rate limits and personal API tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from gateway.core.auth.login import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_USERNAME
from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import UserType
from gateway.core.models import ApiToken, LoginSession
from gateway.core.users import create_user
from tests.api.conftest import AppClientFactory

Client = AsyncTestClient[Litestar]
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def ada(pg_url: str) -> str:
    """A local DEV account `ada` with PASSWORD."""
    await run_sql(pg_url, lambda session: create_user(session, "ada", password=PASSWORD, user_type=UserType.DEV))
    return "ada"


@pytest.fixture
async def browser(make_client: AppClientFactory, pg_url: str) -> AsyncIterator[Client]:
    async with make_client(pg_url) as client:
        yield client


async def run_sql(pg_url: str, work: Any) -> Any:
    engine = create_engine(pg_url)
    async with create_session_factory(engine)() as session:
        result = await work(session)
        await session.commit()
    await engine.dispose()
    return result


async def login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return await client.post("/api/auth/login", json={"username": username, "password": password, **extra})


async def test_login_starts_a_session_cookie_that_authenticates(browser: Client, ada: str) -> None:
    response = await login(browser, ada, PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "ada"
    assert "password" not in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("gw_session=gws_")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http
    assert "Max-Age" not in cookie  # a browser session, unless remember-me was asked for

    me = await browser.get("/api/me")
    assert me.status_code == 200
    assert me.json()["type"] == "DEV"


async def test_cookies_are_secure_over_https(make_client: AppClientFactory, pg_url: str, ada: str) -> None:
    async with make_client(pg_url) as client:
        client.base_url = "https://testserver.local"  # type: ignore[assignment]
        response = await login(client, ada, PASSWORD, remember=True)
    cookies = response.headers.get_list("set-cookie")
    assert sorted(cookie.split("=", 1)[0] for cookie in cookies) == ["gw_csrf", "gw_remember", "gw_session"]
    assert all("Secure" in cookie for cookie in cookies)


@pytest.mark.parametrize(("username", "password"), [("ada", "wrong password!"), ("nobody", PASSWORD), ("ada", "")])
async def test_wrong_credentials_get_one_answer_whatever_was_wrong(
    browser: Client, ada: str, username: str, password: str
) -> None:
    response = await login(browser, username, password)
    expected = 400 if not password else 401
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["detail"] == "wrong username or password"
        set_cookies = response.headers.get("set-cookie", "")
        assert "gw_session" not in set_cookies
        assert "gw_remember" not in set_cookies


async def test_failures_per_username_are_limited(browser: Client, ada: str) -> None:
    for _ in range(MAX_FAILURES_PER_USERNAME):
        assert (await login(browser, ada, "wrong password!")).status_code == 401
    throttled = await login(browser, ada, PASSWORD)
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 15 * 60 + 1
    assert "this username" in throttled.json()["detail"]


async def test_failures_per_client_address_are_limited(browser: Client, ada: str) -> None:
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert (await login(browser, f"guess{n}", "wrong password!")).status_code == 401
    throttled = await login(browser, ada, PASSWORD)
    assert throttled.status_code == 429
    assert "this address" in throttled.json()["detail"]


async def test_a_successful_login_clears_the_usernames_failures(browser: Client, ada: str) -> None:
    for _ in range(MAX_FAILURES_PER_USERNAME - 1):
        await login(browser, ada, "wrong password!")
    assert (await login(browser, ada, PASSWORD)).status_code == 200
    for _ in range(MAX_FAILURES_PER_USERNAME - 1):
        await login(browser, ada, "wrong password!")
    assert (await login(browser, ada, PASSWORD)).status_code == 200


async def test_logout_ends_the_session(browser: Client, ada: str, pg_url: str) -> None:
    await login(browser, ada, PASSWORD, remember=True)
    old_session = browser.cookies["gw_session"]
    response = await browser.post("/api/auth/logout")
    assert response.status_code == 204
    assert all("Max-Age=0" in cookie for cookie in response.headers.get_list("set-cookie"))
    assert await run_sql(pg_url, lambda s: s.scalar(select(func.count()).select_from(LoginSession))) == 0
    replay = await browser.get("/api/me", headers={"Cookie": f"gw_session={old_session}"})
    assert replay.status_code == 401


async def test_remember_me_starts_a_new_session_and_replaces_itself(browser: Client, ada: str, pg_url: str) -> None:
    response = await login(browser, ada, PASSWORD, remember=True)
    remember_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("gw_remember="))
    assert "Max-Age=2592000" in remember_cookie  # 30 days
    old_remember = browser.cookies["gw_remember"]

    # The browser session expires; the remember-me token brings the user back in with fresh tokens.
    await run_sql(
        pg_url,
        lambda s: s.execute(
            update(LoginSession)
            .where(LoginSession.kind == "session")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        ),
    )
    me = await browser.get("/api/me")
    assert me.status_code == 200
    renewed = me.headers.get_list("set-cookie")
    assert {cookie.split("=", 1)[0] for cookie in renewed} == {"gw_session", "gw_remember"}
    assert browser.cookies["gw_remember"] != old_remember

    # The replaced token is spent: replaying it alone gets nowhere.
    browser.cookies.clear()
    replay = await browser.get("/api/me", headers={"Cookie": f"gw_remember={old_remember}"})
    assert replay.status_code == 401


async def test_sessions_store_only_hashes(browser: Client, ada: str, pg_url: str) -> None:
    await login(browser, ada, PASSWORD, remember=True)
    hashes = await run_sql(pg_url, lambda s: s.scalars(select(LoginSession.token_hash)))
    stored = set(hashes.all())
    assert browser.cookies["gw_session"] not in stored
    assert browser.cookies["gw_remember"] not in stored
    assert all(len(value) == 64 for value in stored)


# --- Personal API tokens ----------------------------------------------------------------------------------------


async def test_api_tokens_are_shown_once_and_authenticate_as_bearer(browser: Client, ada: str, pg_url: str) -> None:
    await login(browser, ada, PASSWORD)
    created = await browser.post("/api/me/tokens", json={"name": "ci"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("gwt_")
    assert created.json()["token_prefix"] == token[:8]

    listed = await browser.get("/api/me/tokens")
    assert [t["name"] for t in listed.json()] == ["ci"]
    assert token not in listed.text

    browser.cookies.clear()
    me = await browser.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "ada"
    stored = await run_sql(pg_url, lambda s: s.scalar(select(ApiToken).where(ApiToken.name == "ci")))
    assert stored.token_hash != token
    assert stored.last_used_at is not None


async def test_a_revoked_token_stops_working(browser: Client, ada: str) -> None:
    await login(browser, ada, PASSWORD)
    created = (await browser.post("/api/me/tokens", json={"name": "short-lived"})).json()
    assert (await browser.delete(f"/api/me/tokens/{created['id']}")).status_code == 204
    listed = (await browser.get("/api/me/tokens")).json()
    assert listed[0]["revoked_at"] is not None
    browser.cookies.clear()
    response = await browser.get("/api/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "the API token is unknown, expired or revoked"


async def test_an_expired_token_stops_working(browser: Client, ada: str, pg_url: str) -> None:
    await login(browser, ada, PASSWORD)
    created = (await browser.post("/api/me/tokens", json={"name": "t", "expires_at": "2099-01-01T00:00:00Z"})).json()
    await run_sql(
        pg_url,
        lambda s: s.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))),
    )
    browser.cookies.clear()
    response = await browser.get("/api/me", headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"), [({"name": "t", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"), ({"name": " "}, "name")]
)
async def test_token_requests_are_validated(browser: Client, ada: str, body: dict[str, str], field: str) -> None:
    await login(browser, ada, PASSWORD)
    response = await browser.post("/api/me/tokens", json=body)
    assert response.status_code in (400, 422)
    assert response.json()["errors"][0]["key"] == field


async def test_another_users_token_cannot_be_revoked(browser: Client, ada: str, pg_url: str) -> None:
    await run_sql(pg_url, lambda s: create_user(s, "bob", password=PASSWORD))
    await login(browser, "bob", PASSWORD)
    bobs = (await browser.post("/api/me/tokens", json={"name": "bob's"})).json()
    await browser.post("/api/auth/logout")
    await login(browser, ada, PASSWORD)
    assert (await browser.delete(f"/api/me/tokens/{bobs['id']}")).status_code == 404


@pytest.mark.parametrize("authorization", ["Basic YWRhOnB3", "Bearer", "Bearer gwt_not-a-real-token"])
async def test_bad_authorization_headers_get_401(browser: Client, authorization: str) -> None:
    response = await browser.get("/api/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_deactivated_user_is_locked_out_at_once(
    browser: Client, ada: str, pg_url: str, make_client: AppClientFactory
) -> None:
    await run_sql(pg_url, lambda s: create_user(s, "root", password=PASSWORD, user_type=UserType.ADMIN))
    await login(browser, ada, PASSWORD)
    token = (await browser.post("/api/me/tokens", json={"name": "t"})).json()["token"]
    ada_id = (await browser.get("/api/me")).json()["id"]
    async with make_client(pg_url) as admin:
        await login(admin, "root", PASSWORD)
        assert (await admin.patch(f"/api/users/{ada_id}", json={"active": False})).status_code == 200
    assert (await browser.get("/api/me")).status_code == 401
    assert (await browser.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    assert (await login(browser, ada, PASSWORD)).status_code == 401
