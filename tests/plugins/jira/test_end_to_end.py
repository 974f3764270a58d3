"""End to end against the fake Jira, Cloud (OAuth 2.0) and Data Center (OAuth 1.0a), with a real `gateway worker`.

An admin sets Jira up as a ticket system and enables a user's link; the user connects through the OAuth
redirect; time booked in the gateway appears in Jira as a worklog in the user's time zone and follows edits and
deletions; worklogs made in Jira come in and their edits update the entries; a webhook updates the cached
ticket, and a forged one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest

from tests.api.world import World
from tests.plugins.end_to_end import Client, call
from tests.plugins.jira.conftest import JiraSetup, jira_setup
from tests.support import Workers, cached_ticket_in, eventually

FLAVOURS = [("cloud", "oauth2"), ("datacenter", "oauth1")]


@pytest.fixture(params=FLAVOURS, ids=[flavour for flavour, _auth in FLAVOURS])
def jira(request: pytest.FixtureRequest, rsa_keys: tuple[str, str]) -> Iterator[JiraSetup]:
    yield from jira_setup(*request.param, *rsa_keys)


async def test_jira_end_to_end(gateway: Client, world: World, jira: JiraSetup, worker: Workers) -> None:
    fake, user = jira.fake, jira.user
    alpha, development = world.id("projects", "Alpha Web"), world.id("activities", "Development")

    # The admin: Jira as a ticket system, Alpha Web booking on it, dev_a's link enabled.
    system = await call(gateway, world, "admin", "POST", "/api/ticket-systems", {
        "name": "Jira", "type": "jira", "base_url": fake.base_url, "book_time": True,
        "config": msgspec.to_builtins(jira.config()), "secrets": jira.secrets(), "import_activity_id": development,
    })  # fmt: skip
    await call(gateway, world, "admin", "PATCH", f"/api/projects/{alpha}",
               {"ticket_system_id": system["id"], "ticket_prefixes": ["GW"]})  # fmt: skip
    await call(gateway, world, "admin", "PUT", f"/api/users/{world.users['dev_a'].id}/ticket-systems/{system['id']}",
               {"enabled": True})  # fmt: skip

    # The user connects through the OAuth redirect: the gateway, Jira's consent page, the gateway's callback.
    fake.consenting_user = user.id
    started = await call(gateway, world, "dev_a", "POST", f"/api/me/ticket-systems/{system['id']}/connect")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(started["authorization_url"])
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert back.path == f"/api/oauth/callback/{system['id']}"
    landed = await gateway.get(f"{back.path}?{back.query}", headers=world.headers("dev_a"))
    assert landed.status_code == 200, landed.text  # the test client follows the redirect to the result page
    assert "is connected" in landed.text, landed.text
    [link] = [item for item in await call(gateway, world, "dev_a", "GET", "/api/me/ticket-systems")
              if item["ticket_system_id"] == system["id"]]  # fmt: skip
    assert link["state"] == "connected"

    # Booking lands in Jira as the user's worklog, at their wall time in their zone.
    booked = await call(gateway, world, "dev_a", "POST", "/api/entries", {
        "day": "2026-11-24", "start": "09:00", "end": "10:30", "description": "Fix login",
        "project_id": alpha, "activity_id": development, "ticket": "GW-1",
    })  # fmt: skip

    def remote(marker: str) -> Any:
        return next((w for w in fake.worklogs.values() if fake.marker_of(w) == marker), None)

    await eventually(lambda: remote(booked["uuid"]), within=60, what="the worklog in Jira", logs=worker.logs)
    pushed = remote(booked["uuid"])
    assert (pushed.seconds, pushed.author) == (5400, user.id)
    assert pushed.started == datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert fake.issues["GW-1"].time_spent == 5400

    # An edit follows.
    await call(gateway, world, "dev_a", "PATCH", f"/api/entries/{booked['id']}",
               {"end": "11:00", "description": "Fix login form", "version": booked["version"]})  # fmt: skip
    await eventually(lambda: remote(booked["uuid"]).seconds == 7200, within=60, what="the edit in Jira",
                     logs=worker.logs)  # fmt: skip

    # A worklog made in Jira comes in (once Jira's change feed shows it), and an edit there updates it.
    direct = fake.add_worklog(user, "GW-1", datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo("Europe/Berlin")), 30, "Call")
    sync_now = f"/api/me/ticket-systems/{system['id']}/sync"
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def imported() -> dict[str, Any] | None:
        listed = await call(gateway, world, "dev_a", "GET", "/api/entries?first_day=2026-11-25&last_day=2026-11-25")
        return next((e for e in listed["items"] if e["worklog_id"] == direct.id), None)

    await eventually(imported, within=60, what="the import of Jira's worklog", logs=worker.logs)
    entry = await imported()
    assert entry is not None
    assert (entry["ticket"], entry["start"], entry["duration"], entry["description"], entry["sync_state"]) == (
        "GW-1", "14:00", 30, "Call", "synced",
    )  # fmt: skip

    fake.edit_worklog(direct.id, 45)
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def updated() -> bool:
        current = await imported()
        return current is not None and current["duration"] == 45

    await eventually(updated, within=60, what="Jira's edit in the gateway", logs=worker.logs)
    assert len(fake.worklogs) == 2  # the import was not pushed back as a new worklog

    # A webhook updates the cached ticket; a forged one is refused.
    fake.issues["GW-1"].summary = "Sync worklogs, renamed"
    fake.issues["GW-1"].status = "In Progress"
    headers, body = fake.issue_webhook("GW-1")
    accepted = await gateway.post(f"/api/webhooks/{system['id']}", content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text

    async def cache_updated() -> bool:
        ticket = await cached_ticket_in(world.database_url, system["id"], "GW-1")
        return ticket is not None and (ticket.summary, ticket.status) == ("Sync worklogs, renamed", "In Progress")

    # The delivery is recorded at once and applied by a job.
    await eventually(cache_updated, within=60, what="the cached ticket's update", logs=worker.logs)
    forged_headers, forged = fake.webhook("jira:issue_deleted", {"issue": {"key": "GW-1"}}, secret="guessed")
    refused = await gateway.post(f"/api/webhooks/{system['id']}", content=forged, headers=forged_headers)
    assert refused.status_code == 401
    assert "GW-1" in fake.issues

    # A deletion follows.
    await call(gateway, world, "dev_a", "DELETE", f"/api/entries/{booked['id']}")
    await eventually(lambda: remote(booked["uuid"]) is None, within=60, what="the deletion in Jira", logs=worker.logs)
    assert fake.issues["GW-1"].time_spent == 45 * 60
