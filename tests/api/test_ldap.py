"""Logging in against a real OpenLDAP server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.auth.ldap import LdapConfig
from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import UserType
from gateway.core.models import User
from gateway.core.users import create_user
from tests.api.conftest import AppClientFactory
from tests.ldap_server import BIND_DN_TEMPLATE, PEOPLE, LdapServer

Client = AsyncTestClient[Litestar]
GRACE_PASSWORD = PEOPLE["grace"][0]


@pytest.fixture
async def client(make_client: AppClientFactory, pg_url: str, ldap_server: LdapServer) -> AsyncIterator[Client]:
    ldap = LdapConfig(url=ldap_server.url, bind_dn_template=BIND_DN_TEMPLATE, user_type=UserType.USER)
    async with make_client(pg_url, ldap=ldap) as client:
        yield client


async def users_named(pg_url: str, username: str) -> list[User]:
    engine = create_engine(pg_url)
    async with create_session_factory(engine)() as session:
        found = list((await session.scalars(select(User).where(User.username == username))).all())
    await engine.dispose()
    return found


async def test_a_first_successful_bind_creates_the_user(client: Client, pg_url: str) -> None:
    response = await client.post("/api/auth/login", json={"username": "grace", "password": GRACE_PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": response.json()["id"],
        "username": "grace",
        "display_name": "Grace Hopper",
        "email": "grace@example.org",
        "type": "USER",
        "locale": "en",
    }
    [grace] = await users_named(pg_url, "grace")
    assert grace.password_hash is None  # the directory keeps the password

    await client.post("/api/auth/logout")
    again = await client.post("/api/auth/login", json={"username": "grace", "password": GRACE_PASSWORD})
    assert again.json()["id"] == grace.id
    assert len(await users_named(pg_url, "grace")) == 1


async def test_a_wrong_password_is_refused_and_creates_nobody(client: Client, pg_url: str) -> None:
    response = await client.post("/api/auth/login", json={"username": "grace", "password": "not her password"})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"
    assert await users_named(pg_url, "grace") == []


@pytest.mark.parametrize("username", ["nobody", "grace,ou=people", "*", "grace)(uid=*"])
async def test_unknown_users_and_dn_tricks_are_refused(client: Client, pg_url: str, username: str) -> None:
    response = await client.post("/api/auth/login", json={"username": username, "password": GRACE_PASSWORD})
    assert response.status_code == 401
    assert await users_named(pg_url, username) == []


async def test_a_local_account_does_not_fall_back_to_the_directory(client: Client, pg_url: str) -> None:
    engine = create_engine(pg_url)
    async with create_session_factory(engine)() as session:
        await create_user(session, "alan", password="a local password")
        await session.commit()
    await engine.dispose()
    ldap_password = PEOPLE["alan"][0]
    assert (
        await client.post("/api/auth/login", json={"username": "alan", "password": ldap_password})
    ).status_code == 401
    local = await client.post("/api/auth/login", json={"username": "alan", "password": "a local password"})
    assert local.status_code == 200


async def test_an_unreachable_directory_is_503_not_a_wrong_password(make_client: AppClientFactory, pg_url: str) -> None:
    ldap = LdapConfig(url="ldap://127.0.0.1:1", bind_dn_template=BIND_DN_TEMPLATE, timeout_seconds=2)
    async with make_client(pg_url, ldap=ldap) as client:
        response = await client.post("/api/auth/login", json={"username": "grace", "password": GRACE_PASSWORD})
    assert response.status_code == 503
    assert "cannot reach the LDAP server at ldap://127.0.0.1:1" in response.json()["detail"]
    assert GRACE_PASSWORD not in response.text
