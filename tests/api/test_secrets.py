"""No response, log line or error message carries a password, a token, a token hash or a stored secret.

The test drives the flows that handle secrets with logging at DEBUG, then scans every response and every log
line for each secret it used. A token may appear where it is handed over, and only there: an API token in the
one response that creates it, a session token in its Set-Cookie header.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.auth.tokens import hash_token
from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import UserType
from gateway.core.logs import configure_logging
from gateway.core.models import ApiToken, TicketSystem
from gateway.core.users import create_user
from tests.api.conftest import AppClientFactory

ADMIN_PASSWORD = "admin password 12345"
NEW_PASSWORD = "changed password 67890"
CLIENT_SECRET = "oauth-client-secret-value"
WEBHOOK_SECRET = "webhook-secret-value"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    yield stream
    logging.getLogger().handlers.clear()


async def test_secrets_never_leak_into_responses_or_logs(
    make_client: AppClientFactory, pg_url: str, debug_log: io.StringIO
) -> None:
    engine = create_engine(pg_url)
    async with create_session_factory(engine)() as session:
        await create_user(session, "root", password=ADMIN_PASSWORD, user_type=UserType.ADMIN)
        await session.commit()

    seen: list[tuple[str, Any]] = []  # (what, response)
    async with make_client(pg_url) as client:

        async def call(what: str, method: str, path: str, **kwargs: Any) -> Any:
            response = await client.request(method, path, **kwargs)
            seen.append((what, response))
            return response

        await call(
            "failed login", "POST", "/api/auth/login", json={"username": "root", "password": "wrong " + ADMIN_PASSWORD}
        )
        await call("login", "POST", "/api/auth/login", json={"username": "root", "password": ADMIN_PASSWORD})
        session_token = client.cookies["gw_session"]
        created = await call("token", "POST", "/api/me/tokens", json={"name": "scan"})
        api_token = created.json()["token"]
        await call("tokens", "GET", "/api/me/tokens")
        await call("bearer", "GET", "/api/me", headers={"Authorization": f"Bearer {api_token}"})
        await call("bad bearer", "GET", "/api/me", headers={"Authorization": f"Bearer {api_token}x"})
        system = await call(
            "ticket system",
            "POST",
            "/api/ticket-systems",
            json={
                "name": "Jira",
                "type": "tasklog",
                "config": {"client_id": "gateway"},
                "base_url": "https://jira.example",
                "secrets": {"client_secret": CLIENT_SECRET},
            },
        )
        system_id = system.json()["id"]
        await call(
            "secrets", "PATCH", f"/api/ticket-systems/{system_id}", json={"secrets": {"webhook_secret": WEBHOOK_SECRET}}
        )
        await call("read system", "GET", f"/api/ticket-systems/{system_id}")
        await call(
            "bad secrets", "PATCH", f"/api/ticket-systems/{system_id}", json={"secrets": {"Bad Name": CLIENT_SECRET}}
        )
        user = await call("user", "POST", "/api/users", json={"username": "eve", "password": NEW_PASSWORD})
        await call("password", "PATCH", f"/api/users/{user.json()['id']}", json={"password": NEW_PASSWORD + "!"})
        await call("weak password", "POST", "/api/users", json={"username": "mallory", "password": "short"})
        await call("logout", "POST", "/api/auth/logout")

    async with create_session_factory(engine)() as session:
        token_hashes = set((await session.scalars(select(ApiToken.token_hash))).all())
        stored_secrets = set((await session.scalars(select(TicketSystem.secrets))).all()) - {None}
    await engine.dispose()

    assert system.json()["secret_names"] == ["client_secret"]
    never_anywhere = {
        ADMIN_PASSWORD,
        NEW_PASSWORD,
        CLIENT_SECRET,
        WEBHOOK_SECRET,
        *token_hashes,
        *stored_secrets,
        session_token,
        hash_token(session_token),
    }
    log = debug_log.getvalue()
    assert '"event": "request"' in log  # the log was captured
    for secret in never_anywhere | {api_token}:
        assert secret not in log
    for what, response in seen:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items() if k != "set-cookie")
        for secret in never_anywhere:
            assert secret not in response.text, what
            assert secret not in headers, what
        if what != "token":
            assert api_token not in response.text, what
