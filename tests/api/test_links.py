"""Linking users to ticket systems through the example connector and its fake Tasklog server."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link, OAuthState, TicketSystem
from gateway.core.passwords import hash_password
from gateway.core.plugins import build_registry
from gateway.core.vault import KeyRing, is_ciphertext
from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.support import libpq_conninfo

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)

Client = AsyncTestClient[Litestar]


@pytest.fixture
def tasklog() -> Iterator[FakeTasklog]:
    # An hour, so a fresh link reads as "connected" (a token within five minutes of expiry is "token expiring").
    with FakeTasklog(access_token_lifetime=3600).serve() as fake:
        yield fake


async def add_system(world: World, fake: FakeTasklog, connector: str = "tasklog") -> int:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = TicketSystem(
            name=f"Tasklog ({connector})",
            type=connector,
            base_url=fake.base_url,
            config={"client_id": fake.client_id} if connector == "tasklog" else {},
            book_time=True,
        )
        session.add(system)
        await session.commit()
        system_id = system.id
    await engine.dispose()
    return system_id


@pytest.fixture
async def system_id(client: Client, world: World, tasklog: FakeTasklog) -> int:
    """A Tasklog ticket system with its secrets set through the API, and dev_a's link enabled by the admin."""
    system_id = await add_system(world, tasklog)
    secrets = {"client_secret": tasklog.client_secret, "webhook_secret": tasklog.webhook_secret}
    response = await client.patch(
        f"/api/ticket-systems/{system_id}", json={"secrets": secrets}, headers=world.headers("admin")
    )
    assert response.status_code == 200, response.text
    await enable(client, world, "dev_a", system_id)
    return system_id


async def enable(client: Client, world: World, username: str, system_id: int, enabled: bool = True) -> None:
    response = await client.put(
        f"/api/users/{world.users[username].id}/ticket-systems/{system_id}",
        json={"enabled": enabled},
        headers=world.headers("admin"),
    )
    assert response.status_code == 200, response.text


async def my_links(client: Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/me/ticket-systems", headers=headers)
    assert response.status_code == 200, response.text
    links: list[dict[str, Any]] = response.json()
    return links


async def authorise(client: Client, system_id: int, headers: dict[str, str]) -> str:
    """Start connecting and let the fake Tasklog authorise: the callback URL it sends the browser back to."""
    started = await client.post(f"/api/me/ticket-systems/{system_id}/connect", headers=headers)
    assert started.status_code == 201, started.text
    url = started.json()["authorization_url"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"http://testserver.local/api/oauth/callback/{system_id}"]
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code in (302, 307), answer.text
    callback = urlsplit(answer.headers["location"])
    return f"{callback.path}?{callback.query}"


def result_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/ticket-systems"
    return parse_qs(location.query)


async def test_oauth_linking_from_enable_to_disconnect(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int, key_ring: KeyRing
) -> None:
    headers = world.headers("dev_a")
    [link] = await my_links(client, headers)
    assert (link["state"], link["auth_kind"], link["type"]) == ("not connected", "oauth2", "tasklog")

    callback = await authorise(client, system_id, headers)
    assert result_of(await client.get(callback, headers=headers, follow_redirects=False))["status"] == ["connected"]

    [link] = await my_links(client, headers)
    assert link["state"] == "connected"
    assert link["remote_account_id"] == "u1"
    assert link["token_expires_at"] is not None
    assert tasklog.count("token:authorization_code") == 1

    stored = await stored_link(world, "dev_a", system_id)
    assert is_ciphertext(stored.access_token or "")
    assert is_ciphertext(stored.token_secret or "")
    assert stored.remote_timezone == "Europe/Berlin"
    grant = tasklog.grants[-1]
    assert key_ring.decrypt(stored.token_secret or "") == grant.refresh_token

    replay = await client.get(callback, headers=headers, follow_redirects=False)
    assert result_of(replay)["status"] == ["failed"]

    assert (await client.delete(f"/api/me/ticket-systems/{system_id}", headers=headers)).status_code == 204
    assert tasklog.count("revoke") >= 1
    assert grant.revoked
    [link] = await my_links(client, headers)
    assert link["state"] == "not connected"
    stored = await stored_link(world, "dev_a", system_id)
    assert (stored.access_token, stored.token_secret) == (None, None)


async def stored_link(world: World, username: str, system_id: int) -> Link:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        link = await session.scalar(
            select(Link).where(Link.user_id == world.users[username].id, Link.ticket_system_id == system_id)
        )
    await engine.dispose()
    assert link is not None
    return link


async def test_a_database_dump_after_linking_holds_no_token_or_secret(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    headers = world.headers("dev_a")
    await client.get(await authorise(client, system_id, headers), headers=headers, follow_redirects=False)
    grant = tasklog.grants[-1]
    command = ["pg_dump", "--data-only", libpq_conninfo(world.database_url)]
    dump = (await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)).stdout
    assert "users_ticket_systems" in dump
    for secret in (grant.refresh_token, *grant.access_tokens, tasklog.client_secret, tasklog.webhook_secret):
        assert secret not in dump


async def test_the_callback_must_come_from_the_user_who_started(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    callback = await authorise(client, system_id, world.headers("dev_a"))
    await enable(client, world, "user_a", system_id)
    outcome = result_of(await client.get(callback, headers=world.headers("user_a"), follow_redirects=False))
    assert outcome["status"] == ["failed"]
    assert "started by someone else" in outcome["reason"][0]


@pytest.fixture
async def browser(make_client: AppClientFactory, world: World) -> AsyncIterator[Client]:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        user = await session.get(type(world.users["dev_a"]), world.users["dev_a"].id)
        assert user is not None
        user.password_hash = hash_password("dev a password")
        await session.commit()
    await engine.dispose()
    async with make_client(world.database_url) as client:
        response = await client.post("/api/auth/login", json={"username": "dev_a", "password": "dev a password"})
        assert response.status_code == 200
        yield client


async def test_a_browser_callback_must_come_from_the_same_session(
    browser: Client, make_client: AppClientFactory, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    callback = await authorise(browser, system_id, {})
    async with make_client(world.database_url) as other_browser:
        await other_browser.post("/api/auth/login", json={"username": "dev_a", "password": "dev a password"})
        outcome = result_of(await other_browser.get(callback, follow_redirects=False))
    assert outcome["status"] == ["failed"]
    assert "another browser session" in outcome["reason"][0]
    # The state was spent by the failed attempt; the right session has to start again.
    assert result_of(await browser.get(callback, follow_redirects=False))["status"] == ["failed"]
    assert result_of(await browser.get(await authorise(browser, system_id, {}), follow_redirects=False))["status"] == [
        "connected"
    ]


async def test_expired_authorisations_are_refused(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    callback = await authorise(client, system_id, world.headers("dev_a"))
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        for state in (await session.scalars(select(OAuthState))).all():
            state.expires_at = state.created_at
        await session.commit()
    await engine.dispose()
    outcome = result_of(await client.get(callback, headers=world.headers("dev_a"), follow_redirects=False))
    assert "expired" in outcome["reason"][0]


async def test_only_enabled_links_can_connect(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    await enable(client, world, "dev_a", system_id, enabled=False)
    response = await client.post(f"/api/me/ticket-systems/{system_id}/connect", headers=world.headers("dev_a"))
    assert response.status_code == 404
    assert await my_links(client, world.headers("dev_a")) == []
    not_enabled = await client.post(f"/api/me/ticket-systems/{system_id}/connect", headers=world.headers("dev_b"))
    assert not_enabled.status_code == 404


async def test_only_an_admin_enables_links(client: Client, world: World, tasklog: FakeTasklog, system_id: int) -> None:
    response = await client.put(
        f"/api/users/{world.users['dev_b'].id}/ticket-systems/{system_id}",
        json={"enabled": True},
        headers=world.headers("pl_b"),
    )
    assert response.status_code == 403


async def test_a_personal_token_is_checked_before_it_is_stored(
    client: Client, world: World, tasklog: FakeTasklog, key_ring: KeyRing
) -> None:
    system_id = await add_system(world, tasklog, "tasklog-token")
    await enable(client, world, "dev_a", system_id)
    path, headers = f"/api/me/ticket-systems/{system_id}/connect", world.headers("dev_a")

    refused = await client.post(path, json={"api_key": "not-a-valid-token"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["key"] == "api_key"
    assert (await stored_link(world, "dev_a", system_id)).access_token is None

    token, _ = tasklog.issue_tokens("u2", lifetime=10**6)
    accepted = await client.post(path, json={"api_key": token}, headers=headers)
    assert accepted.json() == {"state": "connected", "authorization_url": None}
    stored = await stored_link(world, "dev_a", system_id)
    assert key_ring.decrypt(stored.access_token or "") == token
    assert stored.remote_account_id == "u2"
    [link] = await my_links(client, headers)
    assert link["state"] == "connected"


async def test_an_uninstalled_connector_leaves_the_gateway_healthy(
    make_client: AppClientFactory, world: World, tasklog: FakeTasklog, system_id: int, client: Client
) -> None:
    without_plugins = build_registry(load_entry_points=False)
    async with make_client(world.database_url, registry=without_plugins) as bare:
        ready = await bare.get("/health/ready")
        assert ready.status_code == 200
        [link] = await my_links(bare, world.headers("dev_a"))
        assert link["state"] == "connector missing"
        system = await bare.get(f"/api/ticket-systems/{system_id}", headers=world.headers("admin"))
        assert system.json()["connector"] == "missing"
        connect = await bare.post(f"/api/me/ticket-systems/{system_id}/connect", headers=world.headers("dev_a"))
        assert connect.status_code == 503
        assert "no connector named 'tasklog' is installed" in connect.json()["detail"]
