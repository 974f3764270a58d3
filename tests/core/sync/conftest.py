"""A user linked to a Tasklog ticket system served by the fake, ready to sync, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.connectors import Credentials
from gateway.core.auth.caller import Caller
from gateway.core.db import create_session_factory
from gateway.core.entries import EntryCreate, EntryUpdate, create_entry, delete_entry, update_entry
from gateway.core.enums import UserType
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Activity, Customer, Entry, Link, Project, TicketSystem, WorklogSyncState
from gateway.core.plugins import build_registry
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.sync.coordination import LocalCoordinator
from gateway.core.sync.engine import SyncDeps, SyncReport, sync_link
from gateway.core.users import create_user
from gateway.core.vault import KeyRing

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)

DAY = date(2026, 11, 24)


@dataclass
class SyncEnv:
    deps: SyncDeps
    fake: FakeTasklog
    link_id: int
    system_id: int
    project_id: int
    activity_id: int
    caller: Caller

    def session(self) -> AsyncSession:
        return self.deps.session_factory()

    async def sync(self) -> SyncReport:
        return await sync_link(self.deps, self.link_id)

    async def book(self, **values: Any) -> Entry:
        body = {"day": DAY, "start": "09:00", "end": "10:30", "ticket": "TL-1", "description": "Work", **values}
        async with self.session() as session:
            entry = await create_entry(
                session,
                self.caller,
                EntryCreate(project_id=self.project_id, activity_id=self.activity_id, **body),
            )
            await session.commit()
            return entry

    async def change(self, entry_id: int, **values: Any) -> Entry:
        async with self.session() as session:
            current = await session.get(Entry, entry_id)
            assert current is not None
            entry = await update_entry(session, self.caller, entry_id, EntryUpdate(version=current.version, **values))
            await session.commit()
            return entry

    async def delete(self, entry_id: int) -> None:
        async with self.session() as session:
            await delete_entry(session, self.caller, entry_id)
            await session.commit()

    async def entry(self, entry_id: int) -> Entry:
        async with self.session() as session:
            entry = await session.get(Entry, entry_id)
            assert entry is not None
            return entry

    async def entries(self) -> list[Entry]:
        async with self.session() as session:
            return list((await session.scalars(select(Entry).order_by(Entry.id))).all())

    async def state(self, entry_id: int) -> WorklogSyncState | None:
        async with self.session() as session:
            return await session.get(WorklogSyncState, entry_id)

    async def link(self) -> Link:
        async with self.session() as session:
            link = await session.get(Link, self.link_id)
            assert link is not None
            return link

    def remote(self) -> list[dict[str, Any]]:
        with self.fake.lock:
            return sorted(self.fake.worklogs.values(), key=lambda w: int(w["id"]))


@pytest.fixture
def fake() -> Iterator[FakeTasklog]:
    with FakeTasklog(access_token_lifetime=3600).serve() as server:
        yield server


@pytest.fixture
async def sync_env(engine: AsyncEngine, fake: FakeTasklog, key_ring: KeyRing) -> AsyncIterator[SyncEnv]:
    factory = create_session_factory(engine)
    async with factory() as session:
        user = await create_user(session, "ada", password=None, user_type=UserType.DEV)
        customer = Customer(name="Customer", global_=True)
        activity = Activity(name="Development")
        session.add_all([customer, activity])
        await session.flush()
        system = TicketSystem(
            name="Tasklog",
            type="tasklog",
            base_url=fake.base_url,
            config={"client_id": fake.client_id, "page_size": 2},
            secrets=seal_system_secrets({"client_secret": fake.client_secret}, key_ring),
            book_time=True,
            import_activity_id=activity.id,
        )
        session.add(system)
        await session.flush()
        project = Project(name="Web", customer_id=customer.id, ticket_system_id=system.id, ticket_prefixes=["TL"])
        session.add(project)
        access, refresh = fake.issue_tokens("u1", lifetime=3600)
        link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
        store_credentials(link, Credentials(access_token=access, secret=refresh, account_id="u1"), key_ring)
        session.add(link)
        await session.commit()
        ids = (link.id, system.id, project.id, activity.id, user.id)
    async with httpx.AsyncClient(timeout=10) as http:
        deps = SyncDeps(
            session_factory=factory,
            runtime=ConnectorRuntime(
                registry=build_registry(), key_ring=key_ring, http=http, public_url="http://127.0.0.1"
            ),
            coordinator=LocalCoordinator(requests_per_second=1000),
            lease_seconds=60,
            clock=lambda: datetime.now(UTC),
        )
        yield SyncEnv(
            deps=deps,
            fake=fake,
            link_id=ids[0],
            system_id=ids[1],
            project_id=ids[2],
            activity_id=ids[3],
            caller=Caller(user_id=ids[4], username="ada", type=UserType.DEV),
        )
