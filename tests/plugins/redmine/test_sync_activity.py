"""The sync engine against the real Redmine: the activity goes both ways, and a ticket change moves the time entry.

Redmine keeps an activity per time entry. One changed in Redmine comes into the gateway (when the gateway has an
activity of that name); a push never overwrites an activity the gateway did not change (an imported "Design"
entry stays "Design" when only its description is edited here). A time entry moved to another issue keeps its
id and history: the gateway moves it with PUT, it does not delete and create.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.connectors import Credentials
from gateway.core.auth.caller import Caller
from gateway.core.db import create_session_factory
from gateway.core.entries import EntryCreate, EntryUpdate, create_entry, update_entry
from gateway.core.enums import SyncState, UserType
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Activity, Customer, Entry, Link, Project, TicketSystem
from gateway.core.plugins import build_registry
from gateway.core.secrets_at_rest import store_credentials
from gateway.core.sync.coordination import LocalCoordinator
from gateway.core.sync.engine import SyncDeps, SyncReport, sync_link
from gateway.core.users import create_user
from gateway.core.vault import KeyRing
from tests.plugins.redmine.conftest import RedmineProject
from tests.redmine_server import RedmineServer


@dataclass
class RedmineSync:
    deps: SyncDeps
    redmine: RedmineServer
    project: RedmineProject
    link_id: int
    project_id: int
    activities: dict[str, int]  # the gateway's, by name
    caller: Caller

    async def sync(self) -> SyncReport:
        return await sync_link(self.deps, self.link_id)

    async def entry(self, entry_id: int) -> Entry:
        async with self.deps.session_factory() as session:
            entry = await session.get(Entry, entry_id)
            assert entry is not None
            return entry

    async def entries(self) -> list[Entry]:
        async with self.deps.session_factory() as session:
            return list((await session.scalars(select(Entry).order_by(Entry.id))).all())

    async def book(self, issue: int, description: str) -> Entry:
        async with self.deps.session_factory() as session:
            entry = await create_entry(session, self.caller, EntryCreate(
                day=date(2026, 11, 24), start="09:00", end="10:00", project_id=self.project_id,
                activity_id=self.activities["Development"], ticket=f"#{issue}", description=description,
            ))  # fmt: skip
            await session.commit()
            return entry

    async def change(self, entry_id: int, **values: Any) -> None:
        async with self.deps.session_factory() as session:
            current = await session.get(Entry, entry_id)
            assert current is not None
            await update_entry(session, self.caller, entry_id, EntryUpdate(version=current.version, **values))
            await session.commit()

    def remote(self, time_entry_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.redmine.ok("GET", f"/time_entries/{time_entry_id}.json")["time_entry"]
        return body


@pytest.fixture
async def redmine_sync(
    engine: AsyncEngine, redmine: RedmineServer, project: RedmineProject, key_ring: KeyRing
) -> AsyncIterator[RedmineSync]:
    redmine_activities = redmine.activities()
    factory = create_session_factory(engine)
    async with factory() as session:
        user = await create_user(session, "ada", password=None, user_type=UserType.DEV)
        customer = Customer(name="Customer", global_=True)
        development, design = Activity(name="Development"), Activity(name="Design")
        session.add_all([customer, development, design])
        await session.flush()
        system = TicketSystem(
            name="Redmine", type="redmine", base_url=redmine.url, book_time=True, import_activity_id=development.id,
            config={"activity_map": {"Development": redmine_activities["Development"]},
                    "default_activity_id": redmine_activities["Development"]},
        )  # fmt: skip
        session.add(system)
        await session.flush()
        gateway_project = Project(name="Web", customer_id=customer.id, ticket_system_id=system.id)
        session.add(gateway_project)
        link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
        credentials = Credentials(access_token=project.user.api_key, account_id=str(project.user.id))
        store_credentials(link, credentials, key_ring)
        session.add(link)
        await session.commit()
        ids = (link.id, gateway_project.id, {"Development": development.id, "Design": design.id}, user.id)
    async with httpx.AsyncClient(timeout=30) as http:
        deps = SyncDeps(
            session_factory=factory,
            runtime=ConnectorRuntime(registry=build_registry(), key_ring=key_ring, http=http, public_url="http://x"),
            coordinator=LocalCoordinator(requests_per_second=1000),
        )
        yield RedmineSync(
            deps=deps, redmine=redmine, project=project, link_id=ids[0], project_id=ids[1], activities=ids[2],
            caller=Caller(user_id=ids[3], username="ada", type=UserType.DEV),
        )  # fmt: skip


async def test_an_activity_changed_in_redmine_comes_in_and_one_not_changed_here_is_never_overwritten(
    redmine_sync: RedmineSync,
) -> None:
    rs = redmine_sync
    redmine_activities = rs.redmine.activities()
    entry = await rs.book(rs.project.issue, "Login form")
    await rs.sync()
    pushed = await rs.entry(entry.id)
    assert pushed.worklog_id is not None
    assert rs.remote(pushed.worklog_id)["activity"]["name"] == "Development"

    # Changed in Redmine: the entry follows.
    rs.redmine.ok("PUT", f"/time_entries/{pushed.worklog_id}.json", key=rs.project.user.api_key,
                  json={"time_entry": {"activity_id": redmine_activities["Design"]}})  # fmt: skip
    report = await rs.sync()
    assert report.taken == 1
    assert (await rs.entry(entry.id)).activity_id == rs.activities["Design"]

    # Only the description changes here: Redmine keeps "Design" (no mapping of it is configured).
    await rs.change(entry.id, description="Login form, reworded")
    await rs.sync()
    remote = rs.remote(pushed.worklog_id)
    assert remote["comments"].startswith("Login form, reworded")
    assert remote["activity"]["name"] == "Design"

    # The activity changed here goes out.
    await rs.change(entry.id, activity_id=rs.activities["Development"])
    await rs.sync()
    assert rs.remote(pushed.worklog_id)["activity"]["name"] == "Development"
    assert (await rs.entry(entry.id)).sync_state is SyncState.SYNCED


async def test_an_imported_entrys_redmine_activity_survives_an_edit_here(redmine_sync: RedmineSync) -> None:
    rs = redmine_sync
    redmine_activities = rs.redmine.activities()
    [other] = [name for name in redmine_activities if name not in ("Development", "Design")][:1] or ["Design"]
    direct = rs.redmine.ok("POST", "/time_entries.json", key=rs.project.user.api_key, json={"time_entry": {
        "issue_id": rs.project.issue, "spent_on": "2026-11-25", "hours": 0.5,
        "activity_id": redmine_activities[other], "comments": "Made in Redmine",
    }})["time_entry"]  # fmt: skip
    report = await rs.sync()
    assert report.imported == 1
    [imported] = await rs.entries()
    assert imported.worklog_id == str(direct["id"])

    await rs.change(imported.id, description="Made in Redmine, edited here")
    report = await rs.sync()
    assert report.updated == 1
    remote = rs.remote(str(direct["id"]))
    assert remote["comments"].startswith("Made in Redmine, edited here")
    assert remote["activity"]["name"] == other


async def test_a_ticket_change_moves_the_time_entry_keeping_its_id(redmine_sync: RedmineSync) -> None:
    rs = redmine_sync
    second_issue = rs.redmine.create_issue(rs.project.identifier, "Another issue")
    entry = await rs.book(rs.project.issue, "Started on the wrong issue")
    await rs.sync()
    worklog_id = (await rs.entry(entry.id)).worklog_id
    assert worklog_id is not None

    await rs.change(entry.id, ticket=f"#{second_issue}")
    report = await rs.sync()

    assert (report.created, report.deleted, report.updated) == (0, 0, 1)
    moved = await rs.entry(entry.id)
    assert (moved.worklog_id, moved.sync_state) == (worklog_id, SyncState.SYNCED)
    assert rs.remote(worklog_id)["issue"]["id"] == second_issue
    assert rs.redmine.time_entries(issue=rs.project.issue) == []
    assert len(rs.redmine.time_entries(issue=second_issue)) == 1
    assert (await rs.sync()).pushed == 0  # settled: nothing more to write
