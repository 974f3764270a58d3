"""Who may do what, endpoint by endpoint, for every role (see tests/api/world.py for the company).

Reads answer 404 for anything outside the caller's view; writes answer 403 when the caller can see the thing
but may not change it, and 404 when they cannot see it at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.world import ROLES, World

Client = AsyncTestClient[Litestar]
ALL_OK = dict.fromkeys(ROLES, 200)


async def statuses(client: Client, world: World, method: str, path: str, json: Any = None) -> dict[str, int]:
    """The status each role gets for one request that changes nothing."""
    found = {}
    for role in ROLES:
        response = await client.request(method, path, json=json, headers=world.headers(role))
        found[role] = response.status_code
    return found


def expect(ok: int, **others: int) -> dict[str, int]:
    """`ok` for every role not named; the named roles get their own status."""
    return {role: others.get(role, ok) for role in ROLES}


# --- Reads: every role in one test, since nothing changes -------------------------------------------------------

READS: list[tuple[str, Callable[[World], str], dict[str, int]]] = [
    ("me", lambda w: "/api/me", ALL_OK),
    ("my tokens", lambda w: "/api/me/tokens", ALL_OK),
    ("entry of dev_a", lambda w: f"/api/entries/{w.entries['dev_a'].id}",
        expect(200, user_a=404, pl_b=404, dev_b=404)),
    ("revisions of dev_a's entry", lambda w: f"/api/entries/{w.entries['dev_a'].id}/revisions",
        expect(200, user_a=404, pl_b=404, dev_b=404)),
    ("entry of dev_b", lambda w: f"/api/entries/{w.entries['dev_b'].id}",
        expect(404, admin=200, pl_b=200, dev_b=200)),
    ("entries list", lambda w: "/api/entries", ALL_OK),
    ("customer Alpha", lambda w: f"/api/customers/{w.id('customers', 'Alpha')}", expect(200, pl_b=404, dev_b=404)),
    ("customer Globex", lambda w: f"/api/customers/{w.id('customers', 'Globex')}", ALL_OK),
    ("project Alpha Web", lambda w: f"/api/projects/{w.id('projects', 'Alpha Web')}",
        expect(200, pl_b=404, dev_b=404)),
    ("project Beta App", lambda w: f"/api/projects/{w.id('projects', 'Beta App')}",
        expect(404, admin=200, pl_b=200, dev_b=200)),
    ("projects list", lambda w: "/api/projects", ALL_OK),
    ("activity", lambda w: f"/api/activities/{w.id('activities', 'Meeting')}", ALL_OK),
    ("activities list", lambda w: "/api/activities", ALL_OK),
    ("account", lambda w: f"/api/accounts/{w.account.id}", ALL_OK),  # type: ignore[union-attr]
    ("accounts list", lambda w: "/api/accounts", ALL_OK),
    ("preset on Alpha Web", lambda w: f"/api/presets/{w.preset.id}", expect(200, pl_b=404, dev_b=404)),  # type: ignore[union-attr]
    ("presets list", lambda w: "/api/presets", ALL_OK),
    ("holidays", lambda w: "/api/holidays", ALL_OK),
    ("team A", lambda w: f"/api/teams/{w.id('teams', 'A')}", expect(200, pl_b=404, dev_b=404)),
    ("teams list", lambda w: "/api/teams", ALL_OK),
    ("user dev_a", lambda w: f"/api/users/{w.users['dev_a'].id}", expect(200, user_a=404, pl_b=404, dev_b=404)),
    ("user admin", lambda w: f"/api/users/{w.users['admin'].id}", expect(404, admin=200)),
    ("users list", lambda w: "/api/users", ALL_OK),
    ("contract of dev_a", lambda w: f"/api/contracts/{w.contract.id}",  # type: ignore[union-attr]
        expect(200, user_a=404, pl_b=404, dev_b=404)),
    ("contracts list", lambda w: "/api/contracts", ALL_OK),
    ("ticket systems list", lambda w: "/api/ticket-systems", expect(403, admin=200)),
    ("ticket system", lambda w: f"/api/ticket-systems/{w.ticket_system.id}", expect(403, admin=200)),  # type: ignore[union-attr]
]  # fmt: skip


@pytest.mark.parametrize(("what", "path", "expected"), READS, ids=[r[0] for r in READS])
async def test_reads(
    client: Client, world: World, what: str, path: Callable[[World], str], expected: dict[str, int]
) -> None:
    assert await statuses(client, world, "GET", path(world)) == expected


@pytest.mark.parametrize(
    ("username", "visible_users"),
    [
        ("admin", {"dev_a", "pl_a", "dev_b"}),
        ("pl_a", {"dev_a", "pl_a"}),
        ("pl_b", {"dev_b"}),
        ("dev_a", {"dev_a"}),
        ("user_a", set()),
    ],
)
async def test_entry_lists_are_filtered_by_view(
    client: Client, world: World, username: str, visible_users: set[str]
) -> None:
    response = await client.get("/api/entries?all_users=true", headers=world.headers(username))
    owners = {entry["user_id"] for entry in response.json()["items"]}
    assert owners == {world.users[name].id for name in visible_users}


async def test_a_dev_asking_for_another_users_entries_gets_an_empty_list(client: Client, world: World) -> None:
    response = await client.get(f"/api/entries?user_id={world.users['dev_b'].id}", headers=world.headers("dev_a"))
    assert response.json()["items"] == []


# --- Writes: one role a test, each on a fresh company ----------------------------------------------------------

WRITES: list[tuple[str, str, Callable[[World], str], Callable[[World], Any], dict[str, int]]] = [
    ("change dev_a's entry", "PATCH", lambda w: f"/api/entries/{w.entries['dev_a'].id}",
        lambda w: {"description": "changed", "version": 1}, expect(404, admin=200, dev_a=200, pl_a=403)),
    ("delete dev_a's entry", "DELETE", lambda w: f"/api/entries/{w.entries['dev_a'].id}",
        lambda w: None, expect(404, admin=204, dev_a=204, pl_a=403)),
    ("book for dev_a", "POST", lambda w: "/api/entries",
        lambda w: {"user_id": w.users["dev_a"].id, "day": "2026-11-24", "start": "08:00", "end": "09:00",
                   "project_id": w.id("projects", "Globex Ops"), "activity_id": w.id("activities", "Meeting")},
        expect(403, admin=201, dev_a=201)),
    ("book on Alpha Web", "POST", lambda w: "/api/entries",
        lambda w: {"day": "2026-11-24", "start": "08:00", "end": "09:00",
                   "project_id": w.id("projects", "Alpha Web"), "activity_id": w.id("activities", "Meeting")},
        expect(201, pl_b=422, dev_b=422)),
    ("bulk from the Alpha preset", "POST", lambda w: "/api/entries/bulk",
        lambda w: {"preset_id": w.preset.id, "first_day": "2026-11-24", "last_day": "2026-11-25",  # type: ignore[union-attr]
                   "start": "08:00", "end": "09:00", "ticket": "ALP-9"},
        expect(201, pl_b=422, dev_b=422)),
    ("create a customer", "POST", lambda w: "/api/customers",
        lambda w: {"name": "New", "team_ids": [w.id("teams", "A")]}, expect(403, admin=201, pl_a=201)),
    ("change customer Alpha", "PATCH", lambda w: f"/api/customers/{w.id('customers', 'Alpha')}",
        lambda w: {"active": False}, expect(403, admin=200, pl_a=200, pl_b=404, dev_b=404)),
    ("delete customer Alpha", "DELETE", lambda w: f"/api/customers/{w.id('customers', 'Alpha')}",
        lambda w: None, expect(403, admin=204, pl_a=204, pl_b=404, dev_b=404)),
    ("create a project for Alpha", "POST", lambda w: "/api/projects",
        lambda w: {"customer_id": w.id("customers", "Alpha"), "name": "Alpha App"},
        expect(403, admin=201, pl_a=201, pl_b=422, dev_b=422)),
    ("create a global customer", "POST", lambda w: "/api/customers",
        lambda w: {"name": "Everyone's", "global": True, "team_ids": [w.id("teams", "A")]},
        expect(403, admin=201)),
    ("make customer Alpha global", "PATCH", lambda w: f"/api/customers/{w.id('customers', 'Alpha')}",
        lambda w: {"global": True}, expect(403, admin=200, pl_b=404, dev_b=404)),
    ("make customer Globex local", "PATCH", lambda w: f"/api/customers/{w.id('customers', 'Globex')}",
        lambda w: {"global": False}, expect(403, admin=200)),
    ("create a project on a ticket system", "POST", lambda w: "/api/projects",
        lambda w: {"customer_id": w.id("customers", "Alpha"), "name": "Alpha Sync",
                   "ticket_system_id": w.ticket_system.id},  # type: ignore[union-attr]
        expect(403, admin=201, pl_b=422, dev_b=422)),
    ("attach Alpha Web to a ticket system", "PATCH", lambda w: f"/api/projects/{w.id('projects', 'Alpha Web')}",
        lambda w: {"ticket_system_id": w.ticket_system.id},  # type: ignore[union-attr]
        expect(403, admin=200, pl_b=404, dev_b=404)),
    ("change project Alpha Web", "PATCH", lambda w: f"/api/projects/{w.id('projects', 'Alpha Web')}",
        lambda w: {"active": False}, expect(403, admin=200, pl_a=200, pl_b=404, dev_b=404)),
    ("delete project Alpha Web", "DELETE", lambda w: f"/api/projects/{w.id('projects', 'Alpha Web')}",
        lambda w: None, expect(403, admin=204, pl_a=204, pl_b=404, dev_b=404)),
    ("create an activity", "POST", lambda w: "/api/activities",
        lambda w: {"name": "Support"}, expect(403, admin=201, pl_a=201, pl_b=201)),
    ("change an activity", "PATCH", lambda w: f"/api/activities/{w.id('activities', 'Meeting')}",
        lambda w: {"factor": 0.5}, expect(403, admin=200, pl_a=200, pl_b=200)),
    ("delete an activity", "DELETE", lambda w: f"/api/activities/{w.id('activities', 'Meeting')}",
        lambda w: None, expect(403, admin=204, pl_a=204, pl_b=204)),
    ("create an account", "POST", lambda w: "/api/accounts", lambda w: {"name": "Other"}, expect(403, admin=201)),
    ("rename an account", "PATCH", lambda w: f"/api/accounts/{w.account.id}",  # type: ignore[union-attr]
        lambda w: {"name": "Renamed"}, expect(403, admin=200)),
    ("delete an account", "DELETE", lambda w: f"/api/accounts/{w.account.id}",  # type: ignore[union-attr]
        lambda w: None, expect(403, admin=204)),
    ("create a preset", "POST", lambda w: "/api/presets",
        lambda w: {"name": "Meet", "project_id": w.id("projects", "Alpha Web"),
                   "activity_id": w.id("activities", "Meeting")},
        expect(403, admin=201, pl_a=201, pl_b=422)),
    ("change the Alpha preset", "PATCH", lambda w: f"/api/presets/{w.preset.id}",  # type: ignore[union-attr]
        lambda w: {"description": "x"}, expect(403, admin=200, pl_a=200, pl_b=404)),
    ("delete the Alpha preset", "DELETE", lambda w: f"/api/presets/{w.preset.id}",  # type: ignore[union-attr]
        lambda w: None, expect(403, admin=204, pl_a=204, pl_b=404)),
    ("set a holiday", "PUT", lambda w: "/api/holidays",
        lambda w: {"day": "2026-12-25", "name": "Christmas"}, expect(403, admin=200)),
    ("create a team", "POST", lambda w: "/api/teams", lambda w: {"name": "C"}, expect(403, admin=201)),
    ("change team A", "PATCH", lambda w: f"/api/teams/{w.id('teams', 'A')}",
        lambda w: {"name": "A+"}, expect(403, admin=200)),
    ("delete team A", "DELETE", lambda w: f"/api/teams/{w.id('teams', 'A')}",
        lambda w: None, expect(403, admin=204)),
    ("create a user", "POST", lambda w: "/api/users", lambda w: {"username": "newbie"}, expect(403, admin=201)),
    ("change user dev_a", "PATCH", lambda w: f"/api/users/{w.users['dev_a'].id}",
        lambda w: {"display_name": "D"}, expect(404, admin=200, pl_a=403, dev_a=403)),
    ("delete user dev_a", "DELETE", lambda w: f"/api/users/{w.users['dev_a'].id}",
        lambda w: None, expect(404, admin=204, pl_a=403, dev_a=403)),
    ("create a contract", "POST", lambda w: "/api/contracts",
        lambda w: {"user_id": w.users["dev_b"].id, "start": "2026-01-01", "hours_1": 8}, expect(403, admin=201)),
    ("change dev_a's contract", "PATCH", lambda w: f"/api/contracts/{w.contract.id}",  # type: ignore[union-attr]
        lambda w: {"hours_5": 4}, expect(404, admin=200, pl_a=403, dev_a=403)),
    ("delete dev_a's contract", "DELETE", lambda w: f"/api/contracts/{w.contract.id}",  # type: ignore[union-attr]
        lambda w: None, expect(404, admin=204, pl_a=403, dev_a=403)),
    ("create a ticket system", "POST", lambda w: "/api/ticket-systems",
        lambda w: {"name": "TL", "type": "tasklog", "base_url": "https://tl.example", "config": {"client_id": "x"}},
        expect(403, admin=201)),
    ("change a ticket system", "PATCH", lambda w: f"/api/ticket-systems/{w.ticket_system.id}",  # type: ignore[union-attr]
        lambda w: {"enabled": False}, expect(403, admin=200)),
    ("delete a ticket system", "DELETE", lambda w: f"/api/ticket-systems/{w.ticket_system.id}",  # type: ignore[union-attr]
        lambda w: None, expect(403, admin=204)),
]  # fmt: skip

WRITE_CASES = [
    pytest.param(method, path, body, role, expected[role], id=f"{what} as {role}")
    for what, method, path, body, expected in WRITES
    for role in ROLES
]


@pytest.mark.parametrize(("method", "path", "body", "role", "status"), WRITE_CASES)
async def test_writes(
    client: Client,
    world: World,
    method: str,
    path: Callable[[World], str],
    body: Callable[[World], Any],
    role: str,
    status: int,
) -> None:
    response = await client.request(method, path(world), json=body(world), headers=world.headers(role))
    assert response.status_code == status, response.text


async def test_holiday_import_is_for_admins(client: Client, world: World) -> None:
    calendar = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\n"
        b"SUMMARY:Xmas\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    found = {}
    for role in ROLES:
        response = await client.post(
            "/api/holidays/import", content=calendar, headers={**world.headers(role), "Content-Type": "text/calendar"}
        )
        found[role] = response.status_code
    assert found == expect(403, admin=200)
