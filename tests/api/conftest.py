from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from gateway.api.csrf import CSRF_COOKIE, CSRF_HEADER
from gateway.app import create_app
from gateway.connectors import Credentials
from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link, Project, TicketSystem
from gateway.core.models.base import utcnow
from gateway.core.plugins import ConnectorRegistry
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.settings import Settings
from gateway.core.vault import KeyRing
from tests.api.world import World, build_world

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

AppClientFactory = Callable[..., AsyncTestClient[Litestar]]


@pytest.fixture
def make_client(key_ring: KeyRing) -> AppClientFactory:
    """Build a test client for an app on the given settings; use it as `async with make_client(...) as client`.

    Like the gateway's own pages, the client repeats the browser's CSRF cookie in the `X-CSRF-Token` header, so
    requests made with a session cookie pass the CSRF check (tests/api/test_csrf.py checks the refusals).
    """

    def make(
        database_url: str, redis_url: str | None = None, registry: ConnectorRegistry | None = None, **settings: object
    ) -> AsyncTestClient[Litestar]:
        config = Settings(database_url=database_url, redis_url=redis_url, key_ring=key_ring, **settings)  # type: ignore[arg-type]
        client = AsyncTestClient(app=create_app(config, registry=registry))

        async def repeat_csrf_token(request: httpx.Request) -> None:
            token = client.cookies.get(CSRF_COOKIE)
            if token and CSRF_HEADER not in request.headers:
                request.headers[CSRF_HEADER] = token

        client.event_hooks["request"].append(repeat_csrf_token)
        return client

    return make


@pytest.fixture
def api_database_url(pg_url: str) -> str:
    """The database API tests run on: PostgreSQL; a module may override this to run on SQLite as well."""
    return pg_url


@pytest.fixture
async def world(api_database_url: str) -> World:
    engine = create_engine(api_database_url)
    async with create_session_factory(engine)() as session:
        built = await build_world(session)
    await engine.dispose()
    built.database_url = api_database_url
    return built


@pytest.fixture
async def client(make_client: AppClientFactory, api_database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of an app on the test database (use `world.headers(name)` to authenticate)."""
    async with make_client(api_database_url) as client:
        yield client


# --- A Tasklog ticket system linked for dev_a (needs the example connector) ----------------------------------


@pytest.fixture
def tasklog() -> Iterator[FakeTasklog]:
    from example_connector.fake_tasklog import FakeTasklog  # installed by `make test`

    with FakeTasklog(access_token_lifetime=3600).serve() as fake:
        yield fake


@pytest.fixture
async def linked(world: World, tasklog: FakeTasklog, key_ring: KeyRing) -> int:
    """Alpha Web books time in a Tasklog system (prefix TL), and dev_a's link to it is connected as u1.

    The link has just synced and the system's changed tickets have just been read, so an app started on this
    world asks the tracker nothing on its own (its startup sweep finds nothing due): what a test sees the
    tracker asked is what the test itself set off.
    """
    now = utcnow()
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = TicketSystem(
            name="Tasklog",
            type="tasklog",
            base_url=tasklog.base_url,
            config={"client_id": tasklog.client_id},
            secrets=seal_system_secrets({"client_secret": tasklog.client_secret}, key_ring),
            book_time=True,
            tickets_read_at=now,
        )
        session.add(system)
        await session.flush()
        project = await session.get(Project, world.id("projects", "Alpha Web"))
        assert project is not None
        project.ticket_system_id = system.id
        project.ticket_prefixes = ["ALP", "TL"]
        access, refresh = tasklog.issue_tokens("u1", lifetime=3600)
        link = Link(user_id=world.users["dev_a"].id, ticket_system_id=system.id, enabled=True, last_sync_at=now)
        store_credentials(link, Credentials(access_token=access, secret=refresh, account_id="u1"), key_ring)
        session.add(link)
        await session.commit()
        system_id = system.id
    await engine.dispose()
    return system_id
