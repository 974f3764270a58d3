"""The ticket cache follows the real Redmine's changed issues (`GET /issues.json?updated_on=>=…`), without
webhooks: the periodic job reads each due ticket system with a linked user's key, or the admin key."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.connectors import Credentials
from gateway.core.db import create_engine, create_session_factory
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Link, Ticket, TicketSystem
from gateway.core.plugins import build_registry
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.sync.coordination import LocalCoordinator
from gateway.core.sync.engine import SyncDeps
from gateway.core.sync.jobs import READ_CHANGED_TICKETS, due_jobs
from gateway.core.ticket_feed import read_changed_tickets
from gateway.core.vault import KeyRing
from tests.api.world import World
from tests.plugins.redmine.conftest import RedmineProject
from tests.redmine_server import RedmineServer


def deps_for(factory: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, key_ring: KeyRing) -> SyncDeps:
    runtime = ConnectorRuntime(registry=build_registry(), key_ring=key_ring, http=http, public_url="http://127.0.0.1")
    return SyncDeps(session_factory=factory, runtime=runtime, coordinator=LocalCoordinator(10))


async def cached(factory: async_sessionmaker[AsyncSession], system_id: int) -> dict[str, str]:
    async with factory() as session:
        rows = await session.execute(select(Ticket.key, Ticket.summary).where(Ticket.ticket_system_id == system_id))
        return {key: summary for key, summary in rows.all()}


async def test_the_ticket_cache_follows_redmine_with_a_linked_users_key(
    world: World, redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient, key_ring: KeyRing
) -> None:
    engine = create_engine(world.database_url)
    factory = create_session_factory(engine)
    async with factory() as session:
        system = TicketSystem(name="Redmine", type="redmine", base_url=redmine.url, config={}, book_time=True)
        session.add(system)
        await session.flush()
        link = Link(user_id=world.users["dev_a"].id, ticket_system_id=system.id, enabled=True)
        store_credentials(link, Credentials(access_token=project.user.api_key), key_ring)
        session.add(link)
        await session.commit()
    deps = deps_for(factory, http, key_ring)

    assert (READ_CHANGED_TICKETS, system.id) in await due_jobs(deps)
    assert await read_changed_tickets(deps, system.id) >= 1
    assert (await cached(factory, system.id))[f"#{project.issue}"] == "Gateway test issue"
    assert (READ_CHANGED_TICKETS, system.id) not in await due_jobs(deps)  # read a moment ago

    redmine.ok("PUT", f"/issues/{project.issue}.json", json={"issue": {"subject": "Renamed in Redmine"}})
    added = redmine.create_issue(project.identifier, subject="Made in Redmine")
    # The next read starts a little before the last (Redmine's update times have whole seconds): the rename in
    # the same second as the first read is not missed.
    await read_changed_tickets(deps, system.id)
    after = await cached(factory, system.id)
    assert (after[f"#{project.issue}"], after[f"#{added}"]) == ("Renamed in Redmine", "Made in Redmine")
    await engine.dispose()


async def test_without_links_the_admin_key_reads_the_changes(
    world: World, redmine: RedmineServer, project: RedmineProject, http: httpx.AsyncClient, key_ring: KeyRing
) -> None:
    engine = create_engine(world.database_url)
    factory = create_session_factory(engine)
    async with factory() as session:
        system = TicketSystem(
            name="Redmine", type="redmine", base_url=redmine.url, config={"auth": "admin"},
            secrets=seal_system_secrets({"admin_api_key": redmine.admin_key}, key_ring),
        )  # fmt: skip
        session.add(system)
        await session.commit()
    deps = deps_for(factory, http, key_ring)
    await read_changed_tickets(deps, system.id)
    assert f"#{project.issue}" in await cached(factory, system.id)
    async with factory() as session:
        stored = await session.get(TicketSystem, system.id)
        assert stored is not None
        assert stored.tickets_read_at is not None
        assert deps.clock() - stored.tickets_read_at < timedelta(minutes=1)
    await engine.dispose()
