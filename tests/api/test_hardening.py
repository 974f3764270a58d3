"""Inputs an attacker or a careless client sends: never a 500, always a problem that names what is wrong."""

from __future__ import annotations

import io
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from tests.api.world import World

Client = AsyncTestClient[Litestar]
TOO_BIG = [2**31, 2**63]


async def as_admin(client: Client, world: World, method: str, path: str, **kwargs: Any) -> Any:
    return await client.request(method, path, headers=world.headers("admin"), **kwargs)


# --- Numbers beyond what a column holds --------------------------------------------------------------------------


@pytest.mark.parametrize("number", TOO_BIG)
@pytest.mark.parametrize(
    "path",
    [
        "/api/teams/{n}",
        "/api/entries/{n}",
        "/api/users/{n}",
        "/api/contracts/{n}",
        "/api/reports/users/{n}/timesheet?month=2026-11",
        "/api/entries?customer_id={n}",
        "/api/entries?offset={n}",
        "/api/customers?offset={n}",
        "/api/reports/sync?user_id={n}",
        "/api/reports/time?first_day=2026-11-01&last_day=2026-11-30&project_id={n}",
    ],
)
async def test_ids_and_offsets_beyond_the_columns_are_a_400(
    client: Client, world: World, path: str, number: int
) -> None:
    response = await as_admin(client, world, "GET", path.format(n=number))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]


@pytest.mark.parametrize("number", TOO_BIG)
async def test_ids_in_bodies_beyond_the_columns_are_a_400(client: Client, world: World, number: int) -> None:
    body = {"name": "Huge", "project_id": number, "activity_id": world.id("activities", "Meeting")}
    response = await as_admin(client, world, "POST", "/api/presets", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["key"] == "project_id"


async def test_the_largest_id_is_merely_not_found(client: Client, world: World) -> None:
    response = await as_admin(client, world, "GET", f"/api/teams/{2**31 - 1}")
    assert response.status_code == 404


# --- Unique keys ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/teams", {"name": "Team A"}, "name"),
        ("/api/teams", {"name": "Team A", "member_ids": [1]}, "name"),
        ("/api/users", {"username": "dev_a"}, "username"),
        ("/api/customers", {"name": "Alpha", "team_ids": []}, "name"),
        ("/api/activities", {"name": "Meeting"}, "name"),
        ("/api/accounts", {"name": "Main"}, "name"),
        ("/api/ticket-systems", {"name": "Tracker", "type": "tasklog", "base_url": "https://t.example",
                                 "config": {"client_id": "x"}}, "name"),
    ],
)  # fmt: skip
async def test_a_taken_name_is_a_409_naming_the_field(
    client: Client, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    response = await as_admin(client, world, "POST", path, json=body)
    assert response.status_code == 409, response.text
    assert response.json()["errors"] == [{"key": field, "message": response.json()["detail"]}]


async def test_a_taken_project_name_within_its_customer_is_a_409(client: Client, world: World) -> None:
    body = {"name": "Alpha Web", "customer_id": world.id("customers", "Alpha")}
    response = await as_admin(client, world, "POST", "/api/projects", json=body)
    assert response.status_code == 409
    assert response.json()["errors"][0]["key"] == "name"


async def test_renaming_a_team_to_a_taken_name_is_a_409(client: Client, world: World) -> None:
    response = await as_admin(client, world, "PATCH", f"/api/teams/{world.id('teams', 'B')}", json={"name": "Team A"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["key"] == "name"


# --- Formats ---------------------------------------------------------------------------------------------------


async def test_a_time_without_a_leading_zero_says_how_to_write_it(client: Client, world: World) -> None:
    body = {
        "day": "2026-11-24",
        "start": "9:00",
        "end": "10:00",
        "project_id": world.id("projects", "Globex Ops"),
        "activity_id": world.id("activities", "Meeting"),
    }
    response = await client.post("/api/entries", json=body, headers=world.headers("dev_a"))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"key": "start", "message": "use HH:MM, e.g. 09:00", "source": "body"}]
    assert "regex" not in response.text


async def test_unknown_secret_names_are_refused(client: Client, world: World) -> None:
    body = {
        "name": "Another",
        "type": "tasklog",
        "base_url": "https://t.example",
        "config": {"client_id": "x"},
        "secrets": {"nonsense": "value"},
    }
    response = await as_admin(client, world, "POST", "/api/ticket-systems", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["key"] == "secrets"
    assert "'nonsense'" in response.json()["detail"]
    assert "value" not in response.text
    changed = await as_admin(
        client,
        world,
        "PATCH",
        f"/api/ticket-systems/{world.ticket_system.id}",  # type: ignore[union-attr]
        json={"secrets": {"nonsense": "value"}},
    )
    assert changed.status_code == 422


# --- Exports ---------------------------------------------------------------------------------------------------


async def test_control_characters_do_not_break_an_xlsx_export(client: Client, world: World) -> None:
    """XLSX cannot hold most control characters; the file is still whole, with a visible replacement."""
    entry = world.entries["dev_a"]
    await client.patch(
        f"/api/entries/{entry.id}",
        json={"description": "bell\x07 and\x0fshift", "version": 1},
        headers=world.headers("dev_a"),
    )
    query = "first_day=2026-11-01&last_day=2026-11-30&group_by=ticket,user&ticket=%0F6"
    empty = await as_admin(client, world, "GET", f"/api/reports/time.xlsx?{query}")
    assert empty.status_code == 200
    filters = dict(load_workbook(io.BytesIO(empty.content))["Filter"].values)  # type: ignore[arg-type]
    assert filters["ticket"] == "\ufffd6"
    assert filters["first_day"].date().isoformat() == "2026-11-01"

    response = await as_admin(client, world, "GET", "/api/reports/time.xlsx?first_day=2026-11-01&last_day=2026-11-30")
    assert response.status_code == 200
    load_workbook(io.BytesIO(response.content))


async def test_a_refused_export_is_a_problem_before_any_byte_of_the_file(client: Client, world: World) -> None:
    response = await as_admin(
        client, world, "GET", "/api/reports/time.csv?first_day=2026-11-30&last_day=2026-11-01&group_by=user"
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_csv_names_its_charset_once(client: Client, world: World) -> None:
    response = await as_admin(client, world, "GET", "/api/reports/time.csv?first_day=2026-11-01&last_day=2026-11-30")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
