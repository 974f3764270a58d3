"""Behaviour of the master-data endpoints beyond who may call them (tests/api/test_access.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import TicketSystem
from gateway.core.vault import KeyRing, is_ciphertext
from tests.api.world import World

Client = AsyncTestClient[Litestar]


async def as_admin(client: Client, world: World, method: str, path: str, body: Any = None) -> Any:
    return await client.request(method, path, json=body, headers=world.headers("admin"))


# --- Ticket systems ---------------------------------------------------------------------------------------------


async def stored_secrets(world: World, system_id: int) -> str | None:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        value = await session.scalar(select(TicketSystem.secrets).where(TicketSystem.id == system_id))
    await engine.dispose()
    return value


async def test_ticket_system_secrets_are_encrypted_and_write_only(
    client: Client, world: World, key_ring: KeyRing
) -> None:
    body = {
        "name": "Jira",
        "type": "tasklog",
        "base_url": "https://tasklog.example",
        "config": {"client_id": "gateway", "page_size": 50},
        "secrets": {"client_secret": "s3cret", "webhook_secret": "hook"},
    }
    created = await as_admin(client, world, "POST", "/api/ticket-systems", body)
    assert created.status_code == 201, created.text
    system = created.json()
    assert system["secret_names"] == ["client_secret", "webhook_secret"]
    assert system["config"] == {"client_id": "gateway", "page_size": 50}
    assert system["import_activity_id"] is None
    assert system["connector"] == "installed"
    assert system["book_time"] is True  # a ticket system receives worklogs unless it is told not to
    assert "s3cret" not in created.text

    raw = await stored_secrets(world, system["id"])
    assert raw is not None
    assert is_ciphertext(raw)
    assert "s3cret" not in raw
    assert json.loads(key_ring.decrypt(raw)) == {"client_secret": "s3cret", "webhook_secret": "hook"}

    changed = await as_admin(
        client,
        world,
        "PATCH",
        f"/api/ticket-systems/{system['id']}",
        {"secrets": {"client_secret": "rotated", "webhook_secret": None}},
    )
    assert changed.json()["secret_names"] == ["client_secret"]
    raw = await stored_secrets(world, system["id"])
    assert raw is not None
    assert json.loads(key_ring.decrypt(raw)) == {"client_secret": "rotated"}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"type": "Not A Connector"}, "type"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"secrets": {"Bad Name": "x"}}, "secrets"),
    ],
)
async def test_ticket_system_input_is_validated(client: Client, world: World, body: dict[str, Any], key: str) -> None:
    full = {"name": "X", "type": "tasklog", "base_url": "https://x.example", "config": {"client_id": "c"}, **body}
    response = await as_admin(client, world, "POST", "/api/ticket-systems", full)
    assert response.status_code == 400
    assert response.json()["errors"][0]["key"].startswith(key)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "frobnitz"}, "no connector named 'frobnitz' is installed"),
        ({"config": {"client_id": 5}}, "invalid config"),
        ({"config": {}}, "invalid config"),
        ({"import_activity_id": 999999}, "activity 999999 does not exist"),
    ],
)
async def test_ticket_systems_need_an_installed_connector_and_a_valid_config(
    client: Client, world: World, body: dict[str, Any], message: str
) -> None:
    full = {"name": "X", "type": "tasklog", "base_url": "https://x.example", "config": {"client_id": "c"}, **body}
    response = await as_admin(client, world, "POST", "/api/ticket-systems", full)
    assert response.status_code == 422
    assert message in response.json()["detail"]


# --- Holidays ---------------------------------------------------------------------------------------------------

CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:1\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261227\r
SUMMARY:Christmas\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:2\r
DTSTART;VALUE=DATE:20270101\r
SUMMARY:New Year\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:3\r
DTSTART:20261230T100000Z\r
DTEND:20261230T110000Z\r
SUMMARY:A meeting, not a holiday\r
END:VEVENT\r
END:VCALENDAR\r
"""


async def import_calendar(client: Client, world: World, content: bytes) -> Any:
    headers = {**world.headers("admin"), "Content-Type": "text/calendar"}
    return await client.post("/api/holidays/import", content=content, headers=headers)


async def test_icalendar_import_stores_each_day_of_all_day_events(client: Client, world: World) -> None:
    first = await import_calendar(client, world, CALENDAR)
    assert first.status_code == 200, first.text
    assert first.json() == {"created": 4, "updated": 0, "unchanged": 0}
    listed = await client.get("/api/holidays?first_day=2026-12-01", headers=world.headers("dev_a"))
    assert [(h["day"], h["name"]) for h in listed.json()] == [
        ("2026-12-24", "Christmas"),
        ("2026-12-25", "Christmas"),
        ("2026-12-26", "Christmas"),
        ("2027-01-01", "New Year"),
    ]
    again = await import_calendar(client, world, CALENDAR.replace(b"New Year", b"New Year's Day"))
    assert again.json() == {"created": 0, "updated": 1, "unchanged": 3}


@pytest.mark.parametrize("content", [b"not a calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"])
async def test_a_bad_calendar_is_a_clear_422(client: Client, world: World, content: bytes) -> None:
    response = await import_calendar(client, world, content)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_holidays_are_set_renamed_and_removed(client: Client, world: World) -> None:
    assert (
        await as_admin(client, world, "PUT", "/api/holidays", {"day": "2026-10-03", "name": "Unity"})
    ).status_code == 200
    renamed = await as_admin(client, world, "PATCH", "/api/holidays/2026-10-03", {"name": "German Unity Day"})
    assert renamed.json() == {"day": "2026-10-03", "name": "German Unity Day"}
    assert (await as_admin(client, world, "DELETE", "/api/holidays/2026-10-03")).status_code == 204
    assert (await as_admin(client, world, "DELETE", "/api/holidays/2026-10-03")).status_code == 404


# --- Contracts, teams, users ------------------------------------------------------------------------------------


async def test_contracts_of_one_user_must_not_overlap(client: Client, world: World) -> None:
    dev_a = world.users["dev_a"].id
    clash = await as_admin(client, world, "POST", "/api/contracts", {"user_id": dev_a, "start": "2026-06-01"})
    assert clash.status_code == 409
    assert world.contract is not None
    await as_admin(client, world, "PATCH", f"/api/contracts/{world.contract.id}", {"end": "2026-12-31"})
    follow_up = await as_admin(
        client, world, "POST", "/api/contracts", {"user_id": dev_a, "start": "2027-01-01", "hours_1": 6.5}
    )
    assert follow_up.status_code == 201
    assert follow_up.json()["hours_1"] == 6.5
    backwards = await as_admin(
        client, world, "PATCH", f"/api/contracts/{follow_up.json()['id']}", {"end": "2026-12-01"}
    )
    assert backwards.status_code == 422


async def test_team_membership_decides_what_a_member_sees(client: Client, world: World) -> None:
    beta = world.id("customers", "Beta")
    assert (await client.get(f"/api/customers/{beta}", headers=world.headers("dev_a"))).status_code == 404
    response = await as_admin(
        client,
        world,
        "PATCH",
        f"/api/teams/{world.id('teams', 'A')}",
        {"customer_ids": [world.id("customers", "Alpha"), beta]},
    )
    assert response.status_code == 200
    assert (await client.get(f"/api/customers/{beta}", headers=world.headers("dev_a"))).status_code == 200


async def test_unknown_team_members_are_refused(client: Client, world: World) -> None:
    response = await as_admin(client, world, "POST", "/api/teams", {"name": "C", "member_ids": [999999]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["key"] == "member_ids"


async def test_an_admin_cannot_lock_themselves_out(client: Client, world: World) -> None:
    admin_id = world.users["admin"].id
    assert (await as_admin(client, world, "PATCH", f"/api/users/{admin_id}", {"type": "DEV"})).status_code == 422
    assert (await as_admin(client, world, "PATCH", f"/api/users/{admin_id}", {"active": False})).status_code == 422
    assert (await as_admin(client, world, "DELETE", f"/api/users/{admin_id}")).status_code == 422


async def test_users_created_by_an_admin_can_log_in(client: Client, world: World) -> None:
    created = await as_admin(client, world, "POST", "/api/users", {"username": "newbie", "password": "a fine password"})
    assert created.json()["local_password"] is True
    ldap_only = await as_admin(client, world, "POST", "/api/users", {"username": "dirk"})
    assert ldap_only.json()["local_password"] is False
    login = await client.post("/api/auth/login", json={"username": "newbie", "password": "a fine password"})
    assert login.status_code == 200


# --- Projects, activities, presets ------------------------------------------------------------------------------


async def test_project_ticket_prefixes_are_normalised(client: Client, world: World) -> None:
    body = {
        "customer_id": world.id("customers", "Alpha"),
        "name": "Alpha Ops",
        "ticket_prefixes": ["ops", "OPS", "sup"],
    }
    response = await client.post("/api/projects", json=body, headers=world.headers("pl_a"))
    assert response.status_code == 201, response.text
    assert response.json()["ticket_prefixes"] == ["OPS", "SUP"]
    bad = await client.post(
        "/api/projects", json={**body, "name": "Bad", "ticket_prefixes": ["1X"]}, headers=world.headers("pl_a")
    )
    assert bad.status_code == 400


async def test_a_project_names_an_existing_ticket_system(client: Client, world: World) -> None:
    body = {"customer_id": world.id("customers", "Alpha"), "name": "Linked", "ticket_system_id": 999999}
    response = await client.post("/api/projects", json=body, headers=world.headers("admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["key"] == "ticket_system_id"


async def test_activity_names_are_unique_among_live_activities(client: Client, world: World) -> None:
    meeting = world.id("activities", "Meeting")
    assert (await as_admin(client, world, "POST", "/api/activities", {"name": "Meeting"})).status_code == 409
    assert (await as_admin(client, world, "DELETE", f"/api/activities/{meeting}")).status_code == 204
    recreated = await as_admin(client, world, "POST", "/api/activities", {"name": "Meeting", "factor": 0.333})
    assert recreated.status_code == 201
    assert recreated.json()["factor"] == 0.33


async def test_a_preset_takes_its_customer_from_the_project(client: Client, world: World) -> None:
    body = {
        "name": "Quick",
        "project_id": world.id("projects", "Alpha Web"),
        "activity_id": world.id("activities", "Meeting"),
    }
    response = await client.post("/api/presets", json=body, headers=world.headers("pl_a"))
    assert response.status_code == 201
    assert response.json()["customer_id"] == world.id("customers", "Alpha")
