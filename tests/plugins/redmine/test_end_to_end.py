"""End to end against a real Redmine: through the gateway's public API, with a real `gateway worker` process.

An admin sets Redmine up as a ticket system and enables a user's link; the user stores their API key; time
booked in the gateway appears in Redmine, follows edits and deletions; time logged directly in Redmine comes in,
and edits there update the entry; a ticket Redmine does not know is refused when the entry is saved.
"""

from __future__ import annotations

from typing import Any

from tests.api.world import World
from tests.plugins.end_to_end import Client, call
from tests.plugins.redmine.conftest import RedmineProject
from tests.redmine_server import RedmineServer
from tests.support import Workers, eventually


async def test_redmine_end_to_end(
    gateway: Client, world: World, redmine: RedmineServer, project: RedmineProject, worker: Workers
) -> None:
    development = redmine.activities()["Development"]
    issue = project.issue

    # The admin: Redmine as a ticket system, Alpha Web booking on it, dev_a's link enabled.
    system = await call(gateway, world, "admin", "POST", "/api/ticket-systems", {
        "name": "Redmine", "type": "redmine", "base_url": redmine.url, "book_time": True,
        "config": {"activity_map": {"Development": development}, "default_activity_id": development},
        "import_activity_id": world.id("activities", "Development"),
    })  # fmt: skip
    await call(gateway, world, "admin", "PATCH", f"/api/projects/{world.id('projects', 'Alpha Web')}",
               {"ticket_system_id": system["id"], "ticket_prefixes": []})  # fmt: skip
    await call(gateway, world, "admin", "PUT", f"/api/users/{world.users['dev_a'].id}/ticket-systems/{system['id']}",
               {"enabled": True})  # fmt: skip

    # The user: a wrong key is refused, theirs is accepted.
    connect = f"/api/me/ticket-systems/{system['id']}/connect"
    wrong = await gateway.post(connect, json={"api_key": "f" * 40}, headers=world.headers("dev_a"))
    assert wrong.status_code == 422
    assert "did not accept this API key" in wrong.json()["detail"]
    assert (await call(gateway, world, "dev_a", "POST", connect, {"api_key": project.user.api_key}))[
        "state"
    ] == "connected"

    # Booking lands in Redmine.
    booked = await call(gateway, world, "dev_a", "POST", "/api/entries", {
        "day": "2026-11-24", "start": "09:00", "end": "10:30", "description": "Fix login",
        "project_id": world.id("projects", "Alpha Web"), "activity_id": world.id("activities", "Development"),
        "ticket": str(issue),
    })  # fmt: skip
    assert booked["ticket"] == f"#{issue}"

    def redmine_entries() -> list[dict[str, Any]]:
        return redmine.time_entries(issue=issue)

    await eventually(redmine_entries, within=60, what="the time entry in Redmine", logs=worker.logs)
    [pushed] = redmine_entries()
    assert (pushed["hours"], pushed["spent_on"], pushed["activity"]["name"]) == (1.5, "2026-11-24", "Development")
    assert pushed["comments"] == f"Fix login [tt:{booked['uuid']}]"
    assert pushed["user"]["id"] == project.user.id

    # An edit follows.
    await call(gateway, world, "dev_a", "PATCH", f"/api/entries/{booked['id']}",
               {"end": "11:00", "description": "Fix login form", "version": booked["version"]})  # fmt: skip

    def edited() -> bool:
        entries = redmine_entries()
        return len(entries) == 1 and entries[0]["hours"] == 2.0 and entries[0]["comments"].startswith("Fix login form")

    await eventually(edited, within=60, what="the edit in Redmine", logs=worker.logs)

    # Time logged directly in Redmine comes in, and an edit there updates it.
    direct = redmine.ok("POST", "/time_entries.json", key=project.user.api_key, json={"time_entry": {
        "issue_id": issue, "spent_on": "2026-11-25", "hours": 0.5, "activity_id": development, "comments": "Call",
    }})["time_entry"]  # fmt: skip
    sync_now = f"/api/me/ticket-systems/{system['id']}/sync"
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def imported() -> dict[str, Any] | None:
        listed = await call(gateway, world, "dev_a", "GET", "/api/entries?first_day=2026-11-25&last_day=2026-11-25")
        return next((e for e in listed["items"] if e["worklog_id"] == str(direct["id"])), None)

    await eventually(imported, within=60, what="the import of Redmine's entry", logs=worker.logs)
    entry = await imported()
    assert entry is not None
    assert (entry["ticket"], entry["duration"], entry["description"], entry["sync_state"]) == (
        f"#{issue}", 30, "Call", "synced",
    )  # fmt: skip

    redmine.ok("PUT", f"/time_entries/{direct['id']}.json", key=project.user.api_key,
               json={"time_entry": {"hours": 0.75}})  # fmt: skip
    await call(gateway, world, "dev_a", "POST", sync_now)

    async def updated() -> bool:
        current = await imported()
        return current is not None and current["duration"] == 45

    await eventually(updated, within=60, what="Redmine's edit in the gateway", logs=worker.logs)
    assert len(redmine_entries()) == 2  # the import was not pushed back as a new entry

    # A deletion follows.
    await call(gateway, world, "dev_a", "DELETE", f"/api/entries/{booked['id']}")
    await eventually(lambda: len(redmine_entries()) == 1, within=60, what="the deletion in Redmine", logs=worker.logs)

    # A ticket Redmine does not know is refused when the entry is saved (one lookup, then the ticket cache).
    refused = await gateway.post("/api/entries", headers=world.headers("dev_a"), json={
        "day": "2026-11-26", "start": "09:00", "end": "10:00",
        "project_id": world.id("projects", "Alpha Web"), "activity_id": world.id("activities", "Development"),
        "ticket": "#99999999",
    })  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["detail"] == "Redmine has no ticket #99999999"
