"""End to end against the fake GitLab, through the gateway's API and a real `gateway worker`.

An admin sets GitLab up as a ticket system (OAuth 2.0) and enables a user's link; the user connects through the
OAuth redirect; time booked in the gateway becomes a timelog with the right seconds, `spentAt` in the zone and
the marker in the summary; an edit replaces it (the old timelog gone, the new one right); a timelog made in
GitLab comes in and is not echoed back, and its deletion in GitLab is followed; an Issue Hook updates the cached
ticket, a retried delivery is acknowledged once, and a forged one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest

from tests.api.world import World
from tests.plugins.end_to_end import Client, call
from tests.plugins.gitlab.conftest import PROJECT, TICKET, GitLabSetup, gitlab_setup
from tests.plugins.gitlab.fake_gitlab import Timelog
from tests.support import Workers, cached_ticket_in, eventually

# Generous waits: a sync job that fails (PostgreSQL has been seen to report a deadlock between an entry's PATCH and
# the worker's run, on the users row) is retried after the worker's backoff.


@pytest.fixture
def oauth_gitlab() -> Iterator[GitLabSetup]:
    yield from gitlab_setup("oauth2")


async def connect(gateway: Client, world: World, setup: GitLabSetup) -> dict[str, Any]:
    """An admin sets GitLab up and enables dev_a's link; dev_a connects through the OAuth redirect."""
    fake, user = setup.fake, setup.user
    alpha, development = world.id("projects", "Alpha Web"), world.id("activities", "Development")

    # The admin: GitLab as a ticket system, Alpha Web booking on its GitLab project (the path is the project's ticket
    # prefix), dev_a's link.
    config = msgspec.to_builtins(setup.config(projects=[PROJECT]))
    system = await call(gateway, world, "admin", "POST", "/api/ticket-systems", {
        "name": "GitLab", "type": "gitlab", "base_url": fake.base_url, "book_time": True,
        "config": config, "secrets": setup.secrets(), "import_activity_id": development,
    })  # fmt: skip
    await call(gateway, world, "admin", "PATCH", f"/api/projects/{alpha}",
               {"ticket_system_id": system["id"], "ticket_prefixes": [PROJECT]})  # fmt: skip
    await call(gateway, world, "admin", "PUT", f"/api/users/{world.users['dev_a'].id}/ticket-systems/{system['id']}",
               {"enabled": True})  # fmt: skip

    # The user connects through the OAuth redirect: the gateway, GitLab's authorisation page, the callback.
    fake.consenting_user = user.id
    started = await call(gateway, world, "dev_a", "POST", f"/api/me/ticket-systems/{system['id']}/connect")
    assert "code_challenge_method=S256" in started["authorization_url"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(started["authorization_url"])
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert back.path == f"/api/oauth/callback/{system['id']}"
    landed = await gateway.get(f"{back.path}?{back.query}", headers=world.headers("dev_a"))
    assert landed.status_code == 200, landed.text
    assert "is connected" in landed.text, landed.text
    [link] = [item for item in await call(gateway, world, "dev_a", "GET", "/api/me/ticket-systems")
              if item["ticket_system_id"] == system["id"]]  # fmt: skip
    assert link["state"] == "connected"
    system_out: dict[str, Any] = system
    return system_out


async def test_gitlab_end_to_end(gateway: Client, world: World, oauth_gitlab: GitLabSetup, worker: Workers) -> None:
    setup = oauth_gitlab
    fake, user = setup.fake, setup.user
    alpha, development = world.id("projects", "Alpha Web"), world.id("activities", "Development")
    system = await connect(gateway, world, setup)

    # Booking lands in GitLab as the user's timelog: seconds, spentAt in the zone, the marker in the summary. A bare
    # #1 on this project is its GitLab project's issue 1, stored as the full key; another project's key is refused.
    booked = await call(gateway, world, "dev_a", "POST", "/api/entries", {
        "day": "2026-11-24", "start": "09:00", "end": "10:30", "description": "Fix login",
        "project_id": alpha, "activity_id": development, "ticket": "#1",
    })  # fmt: skip
    assert booked["ticket"] == TICKET
    elsewhere = await gateway.post("/api/entries", headers=world.headers("dev_a"), json={
        "day": "2026-11-24", "start": "11:00", "end": "12:00", "project_id": alpha, "activity_id": development,
        "ticket": "acme/other#1",
    })  # fmt: skip
    assert elsewhere.status_code == 422, elsewhere.text

    def timelogs(marker: str) -> list[Timelog]:
        return [t for t in fake.timelogs_of(user) if t.summary.endswith(f"[tt:{marker}]")]

    await eventually(lambda: timelogs(booked["uuid"]), within=60, what="the timelog in GitLab", logs=worker.logs)
    [pushed] = timelogs(booked["uuid"])
    assert (pushed.seconds, pushed.user.id, pushed.issuable.reference) == (5400, user.id, f"{PROJECT}#1")
    assert pushed.spent_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert pushed.summary == f"Fix login [tt:{booked['uuid']}]"

    # An edit: a new timelog replaces the old one.
    await call(gateway, world, "dev_a", "PATCH", f"/api/entries/{booked['id']}",
               {"end": "11:00", "description": "Fix login form", "version": booked["version"]})  # fmt: skip

    def edited() -> bool:
        current = timelogs(booked["uuid"])
        return len(current) == 1 and current[0].seconds == 7200 and current[0].id != pushed.id

    await eventually(edited, within=60, what="the edit in GitLab", logs=worker.logs)
    [replaced] = timelogs(booked["uuid"])
    assert pushed.id not in fake.timelogs
    assert replaced.summary == f"Fix login form [tt:{booked['uuid']}]"
    assert replaced.spent_at == pushed.spent_at

    async def entry_of(entry_id: int) -> dict[str, Any]:
        found: dict[str, Any] = await call(gateway, world, "dev_a", "GET", f"/api/entries/{entry_id}")
        return found

    async def follows_new_id() -> bool:
        current = await entry_of(booked["id"])
        return bool(current["worklog_id"] == replaced.gid and current["sync_state"] == "synced")

    await eventually(follows_new_id, within=60, what="the entry following the new timelog id", logs=worker.logs)

    # A timelog made in GitLab comes in, and is not pushed back.
    direct = fake.add_timelog(user, TICKET, datetime(2026, 11, 25, 13, 0, tzinfo=UTC), 1800, "Call")
    creates = len(fake.mutations("CreateTimelog"))
    sync_now = f"/api/me/ticket-systems/{system['id']}/sync"
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def imported() -> dict[str, Any] | None:
        listed = await call(gateway, world, "dev_a", "GET", "/api/entries?first_day=2026-11-25&last_day=2026-11-25")
        return next((e for e in listed["items"] if e["worklog_id"] == direct.gid), None)

    await eventually(imported, within=60, what="the import of GitLab's timelog", logs=worker.logs)
    entry = await imported()
    assert entry is not None
    assert (entry["ticket"], entry["start"], entry["duration"], entry["description"], entry["sync_state"]) == (
        TICKET, "14:00", 30, "Call", "synced",
    )  # fmt: skip
    assert len(fake.timelogs_of(user)) == 2

    # Its deletion in GitLab is followed.
    fake.delete_timelog(direct.id)
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def deleted_there() -> bool:
        current = await entry_of(entry["id"])
        return bool(current["sync_state"] == "remote_deleted")

    await eventually(deleted_there, within=60, what="GitLab's deletion in the gateway", logs=worker.logs)
    assert len(fake.mutations("CreateTimelog")) == creates  # the import was never echoed back
    assert [t.id for t in fake.timelogs_of(user)] == [replaced.id]

    # An Issue Hook updates the cached ticket; its retry is acknowledged once; a forged one is refused.
    issue = fake.issuable(TICKET)
    issue.title, issue.state, issue.labels = "Sync timelogs, renamed", "closed", ["backend", "done"]
    issue.updated_at = datetime.now(UTC)
    headers, body = fake.hook("Issue Hook", fake.issue_payload(issue, user), token=fake.webhook_secret)
    accepted = await gateway.post(f"/api/webhooks/{system['id']}", content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "accepted"
    retried = await gateway.post(f"/api/webhooks/{system['id']}", content=body, headers=headers)
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "duplicate"

    async def cache_updated() -> bool:
        ticket = await cached_ticket_in(world.database_url, system["id"], TICKET)
        return ticket is not None and (ticket.summary, ticket.status) == ("Sync timelogs, renamed", "closed")

    # The delivery is recorded at once and applied by a job.
    await eventually(cache_updated, within=60, what="the cached ticket's update", logs=worker.logs)
    forged_headers, forged = fake.hook("Issue Hook", fake.issue_payload(issue, user, "close"), token="guessed")
    refused = await gateway.post(f"/api/webhooks/{system['id']}", content=forged, headers=forged_headers)
    assert refused.status_code == 401
    push = fake.hook("Push Hook", {"object_kind": "push", "project": {"path_with_namespace": PROJECT}},
                     token=fake.webhook_secret)  # fmt: skip
    ignored = await gateway.post(f"/api/webhooks/{system['id']}", content=push[1], headers=push[0])
    assert ignored.status_code == 202  # GitLab disables hooks that keep getting 4xx: other events are accepted

    # A deletion follows.
    await call(gateway, world, "dev_a", "DELETE", f"/api/entries/{booked['id']}")
    await eventually(lambda: not timelogs(booked["uuid"]), within=60, what="the deletion in GitLab", logs=worker.logs)
    assert fake.total_seconds(TICKET) == 0


async def test_a_lost_rotation_asks_the_user_to_reconnect_instead_of_retrying(
    gateway: Client, world: World, oauth_gitlab: GitLabSetup, worker: Workers
) -> None:
    fake = oauth_gitlab.fake
    system = await connect(gateway, world, oauth_gitlab)
    # A refresh whose answer never reached the gateway: GitLab rotated both tokens, the gateway holds the old pair.
    [grant] = fake.grants
    grant.old_refresh_tokens.add(grant.refresh_token)
    grant.refresh_token, grant.access_token = "glort-lost-in-transit", "gloat-lost-in-transit"
    await call(gateway, world, "dev_a", "POST", f"/api/me/ticket-systems/{system['id']}/sync")

    async def state() -> str:
        links = await call(gateway, world, "dev_a", "GET", "/api/me/ticket-systems")
        found: str = next(item["state"] for item in links if item["ticket_system_id"] == system["id"])
        return found

    async def reconnect_needed() -> bool:
        return await state() == "reconnect needed"

    await eventually(reconnect_needed, within=120, what="the link asking to reconnect", logs=worker.logs)
    refreshes = [r for r in fake.token_requests if r.get("grant_type") == "refresh_token"]
    assert len(refreshes) == 1  # one refused refresh, then the user is asked: no retry loop on a dead token
    assert refreshes[0]["refresh_token"] in grant.old_refresh_tokens
