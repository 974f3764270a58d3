"""Token refresh is serialised per link: rotating refresh tokens are never used twice, and refusals stick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.connectors import AuthRevoked, ConnectorContext, Credentials
from gateway.core.db import create_session_factory
from gateway.core.link_tokens import usable_credentials
from gateway.core.models import Link, TicketSystem
from gateway.core.secrets_at_rest import open_credentials, store_credentials
from gateway.core.users import create_user
from gateway.core.vault import KeyRing

try:
    from example_connector.connector import TasklogConfig, TasklogConnector
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


@pytest.fixture
def fake() -> Iterator[FakeTasklog]:
    with FakeTasklog().serve() as server:
        yield server


@pytest.fixture
async def connector(fake: FakeTasklog) -> AsyncIterator[TasklogConnector]:
    async with httpx.AsyncClient() as http:
        yield TasklogConnector(
            ConnectorContext(
                base_url=fake.base_url,
                config=TasklogConfig(client_id=fake.client_id),
                secrets={"client_secret": fake.client_secret},
                http=http,
            )
        )


async def make_link(engine: AsyncEngine, key_ring: KeyRing, credentials: Credentials) -> int:
    async with create_session_factory(engine)() as session:
        user = await create_user(session, "ada", password=None)
        system = TicketSystem(name="Tasklog", type="tasklog", base_url="http://x", config={"client_id": "gateway"})
        session.add(system)
        await session.flush()
        link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
        store_credentials(link, credentials, key_ring)
        session.add(link)
        await session.commit()
        return link.id


async def stored(engine: AsyncEngine, link_id: int) -> Link:
    async with create_session_factory(engine)() as session:
        link = await session.get(Link, link_id)
    assert link is not None
    return link


async def test_two_workers_refreshing_one_link_call_the_tracker_once(
    engine: AsyncEngine, key_ring: KeyRing, fake: FakeTasklog, connector: TasklogConnector
) -> None:
    access, refresh = fake.issue_tokens("u1")
    link_id = await make_link(engine, key_ring, Credentials(access_token=access, secret=refresh))
    fake.expire_access_tokens()  # both workers got a 401 with the same token
    factory = create_session_factory(engine)
    now = datetime.now(UTC)

    results = await asyncio.gather(
        *(usable_credentials(factory, link_id, connector, key_ring, now=now, rejected_token=access) for _ in range(2))
    )

    assert fake.count("token:refresh_token") == 1
    assert results[0].access_token == results[1].access_token != access
    assert (await connector.account(results[0])).id == "u1"
    kept = open_credentials(await stored(engine, link_id), key_ring)
    assert kept is not None
    assert kept.secret == fake.grants[-1].refresh_token  # the rotated refresh token was stored


async def test_a_token_close_to_expiry_is_refreshed_before_use_and_a_fresh_one_is_not(
    engine: AsyncEngine, key_ring: KeyRing, fake: FakeTasklog, connector: TasklogConnector
) -> None:
    access, refresh = fake.issue_tokens("u1")
    now = datetime.now(UTC)
    link_id = await make_link(
        engine, key_ring, Credentials(access_token=access, secret=refresh, expires_at=now + timedelta(hours=1))
    )
    factory = create_session_factory(engine)
    assert (await usable_credentials(factory, link_id, connector, key_ring, now=now)).access_token == access
    soon = now + timedelta(minutes=58)
    refreshed = await usable_credentials(factory, link_id, connector, key_ring, now=soon)
    assert refreshed.access_token != access
    assert fake.count("token:refresh_token") == 1


async def test_a_refused_refresh_marks_the_link_for_reconnection(
    engine: AsyncEngine, key_ring: KeyRing, fake: FakeTasklog, connector: TasklogConnector
) -> None:
    access, refresh = fake.issue_tokens("u1")
    link_id = await make_link(engine, key_ring, Credentials(access_token=access, secret=refresh))
    fake.grants[-1].revoked = True
    factory = create_session_factory(engine)
    now = datetime.now(UTC)
    with pytest.raises(AuthRevoked):
        await usable_credentials(factory, link_id, connector, key_ring, now=now, rejected_token=access)
    link = await stored(engine, link_id)
    assert link.needs_reconnect
    assert link.last_error
    # No second attempt: the link waits for the user instead of hammering the tracker.
    with pytest.raises(AuthRevoked, match="connect again"):
        await usable_credentials(factory, link_id, connector, key_ring, now=now, rejected_token=access)
    assert fake.count("token:refresh_token") == 1
