"""Booking time: the seed's rules, day classes, optimistic concurrency, revisions, sync state and bulk entry."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Holiday, Project, TicketSystem
from gateway.core.revisions import list_revisions
from tests.api.world import World

Client = AsyncTestClient[Litestar]


@pytest.fixture
def api_database_url(database_url: str) -> str:
    """Entries are the heart of the product: every test here runs on PostgreSQL and on SQLite."""
    return database_url


DAY = "2026-11-24"  # a Tuesday, covered by dev_a's contract


def booking(world: World, **values: Any) -> dict[str, Any]:
    body = {
        "day": DAY,
        "start": "08:00",
        "end": "09:00",
        "project_id": world.id("projects", "Alpha Web"),
        "activity_id": world.id("activities", "Meeting"),
    }
    return {**body, **values}


async def book(client: Client, world: World, username: str = "dev_a", **values: Any) -> Any:
    return await client.post("/api/entries", json=booking(world, **values), headers=world.headers(username))


async def update_row(database_url: str, model: Any, row_id: int, **values: Any) -> None:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        await session.execute(update(model).where(model.id == row_id).values(**values))
        await session.commit()
    await engine.dispose()


async def add_rows(database_url: str, *rows: Any) -> list[Any]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        session.add_all(rows)
        await session.commit()
    await engine.dispose()
    return list(rows)


# --- Rules ------------------------------------------------------------------------------------------------------


async def test_a_booking_is_stored_with_its_derived_fields(client: Client, world: World) -> None:
    response = await book(client, world, start="08:15", end="10:00", ticket="  alp-7 ", description=" Fix login ")
    assert response.status_code == 201, response.text
    entry = response.json()
    assert (entry["start"], entry["end"], entry["duration"]) == ("08:15", "10:00", 105)
    assert entry["ticket"] == "ALP-7"
    assert entry["description"] == "Fix login"
    assert entry["customer_id"] == world.id("customers", "Alpha")
    assert entry["user_id"] == world.users["dev_a"].id
    assert entry["version"] == 1
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"start": "10:00", "end": "09:00"}, "end", "cannot span midnight"),
        ({"start": "10:00", "end": "10:00"}, "end", "the end must be after the start"),
        ({"ticket": "BET-1"}, "ticket", "does not belong to this project"),
        ({"ticket": "not a ticket"}, "ticket", "is not a ticket key"),
        ({"activity_id": "DEV"}, "ticket", "needs a ticket"),
        ({"customer_id": "Globex"}, "customer_id", "only global projects take entries for other customers"),
        ({"day": "2025-12-31"}, "day", "no contract of dev_a covers 2025-12-31"),
        ({"account_id": 999999}, "account_id", "there is no account 999999"),
        ({"project_id": "Beta App"}, "project_id", "this user can book on"),
    ],
)
async def test_each_rule_refuses_with_a_field_level_error(
    client: Client, world: World, values: dict[str, Any], field: str, message: str
) -> None:
    resolved = {
        "activity_id": world.id("activities", "Development"),
        "customer_id": world.id("customers", "Globex"),
        "project_id": world.id("projects", "Beta App"),
    }
    body = {
        key: resolved[key] if isinstance(value, str) and key in resolved else value for key, value in values.items()
    }
    response = await book(client, world, **body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["key"] == field
    assert message in problem["detail"]


async def test_the_duration_cannot_be_sent(client: Client, world: World) -> None:
    response = await book(client, world, duration=500)
    assert response.status_code == 400
    assert "unknown field `duration`" in response.text


@pytest.mark.parametrize("start", ["8:00", "08:00:30", "24:00", "08:00+01:00"])
async def test_times_are_wall_clock_minutes(client: Client, world: World, start: str) -> None:
    response = await book(client, world, start=start)
    assert response.status_code == 400
    assert response.json()["errors"][0]["key"] == "start"


async def test_listed_subtickets_are_accepted_besides_the_prefixes(
    client: Client, world: World, database_url: str
) -> None:
    await update_row(database_url, Project, world.id("projects", "Alpha Web"), subtickets=["OPS-12"])
    assert (await book(client, world, ticket="ops-12")).status_code == 201
    assert (await book(client, world, ticket="ALP-3", start="10:00", end="11:00")).status_code == 201
    refused = await book(client, world, ticket="OPS-13", start="12:00", end="13:00")
    assert refused.status_code == 422
    assert "allowed: ALP-…, OPS-12" in refused.json()["detail"]


async def test_a_global_project_takes_entries_for_any_visible_customer(client: Client, world: World) -> None:
    globex_ops = world.id("projects", "Globex Ops")
    response = await book(client, world, project_id=globex_ops, customer_id=world.id("customers", "Alpha"))
    assert response.status_code == 422  # Globex Ops is not global
    await make_global(client, world, globex_ops)
    response = await book(client, world, project_id=globex_ops, customer_id=world.id("customers", "Alpha"))
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == world.id("customers", "Alpha")


async def make_global(client: Client, world: World, project_id: int) -> None:
    response = await client.patch(f"/api/projects/{project_id}", json={"global": True}, headers=world.headers("admin"))
    assert response.status_code == 200, response.text


async def test_an_inactive_project_refuses_new_entries_but_keeps_old_ones_editable(
    client: Client, world: World
) -> None:
    alpha_web = world.id("projects", "Alpha Web")
    entry = world.entries["dev_a"]
    response = await client.patch(f"/api/projects/{alpha_web}", json={"active": False}, headers=world.headers("pl_a"))
    assert response.status_code == 200

    refused = await book(client, world)
    assert refused.status_code == 422
    assert "inactive" in refused.json()["detail"]
    edited = await client.patch(
        f"/api/entries/{entry.id}", json={"description": "still fine", "version": 1}, headers=world.headers("dev_a")
    )
    assert edited.status_code == 200, edited.text


async def test_entries_of_a_deleted_project_stay_readable(client: Client, world: World) -> None:
    alpha_web = world.id("projects", "Alpha Web")
    assert (await client.delete(f"/api/projects/{alpha_web}", headers=world.headers("admin"))).status_code == 204
    response = await client.get(f"/api/entries/{world.entries['dev_a'].id}", headers=world.headers("dev_a"))
    assert response.status_code == 200
    assert response.json()["project_id"] == alpha_web


# --- Day classes ------------------------------------------------------------------------------------------------


async def day_classes(client: Client, world: World, username: str = "dev_a", day: str = DAY) -> list[tuple[str, str]]:
    response = await client.get(
        f"/api/entries?first_day={day}&last_day={day}&sort=start", headers=world.headers(username)
    )
    return [(entry["start"], entry["class"]) for entry in response.json()["items"]]


async def test_every_entry_class_of_the_original(client: Client, world: World) -> None:
    for start, end in (("08:00", "09:00"), ("09:00", "10:00"), ("10:30", "12:00"), ("11:00", "11:30")):
        assert (await book(client, world, start=start, end=end)).status_code == 201
    assert await day_classes(client, world) == [
        ("08:00", "DAYBREAK"),
        ("09:00", "PLAIN"),
        ("10:30", "PAUSE"),
        ("11:00", "OVERLAP"),
    ]


async def test_classes_are_recomputed_after_a_change_and_a_delete(client: Client, world: World) -> None:
    first = (await book(client, world, start="08:00", end="09:00")).json()
    second = (await book(client, world, start="09:00", end="10:00")).json()
    third = (await book(client, world, start="10:00", end="11:00")).json()
    assert [c for _, c in await day_classes(client, world)] == ["DAYBREAK", "PLAIN", "PLAIN"]

    moved = await client.patch(
        f"/api/entries/{second['id']}",
        json={"start": "09:30", "version": second["version"]},
        headers=world.headers("dev_a"),
    )
    assert moved.json()["class"] == "PAUSE"
    assert await day_classes(client, world) == [("08:00", "DAYBREAK"), ("09:30", "PAUSE"), ("10:00", "PLAIN")]

    await client.delete(f"/api/entries/{first['id']}", headers=world.headers("dev_a"))
    assert await day_classes(client, world) == [("09:30", "DAYBREAK"), ("10:00", "PLAIN")]
    # A neighbour's class changing does not change its version: nobody edited it.
    unchanged = await client.get(f"/api/entries/{third['id']}", headers=world.headers("dev_a"))
    assert unchanged.json()["version"] == 1


async def test_moving_an_entry_to_another_day_reclassifies_both_days(client: Client, world: World) -> None:
    await book(client, world, start="08:00", end="09:00")
    moving = (await book(client, world, start="09:00", end="10:00")).json()
    await client.patch(
        f"/api/entries/{moving['id']}", json={"day": "2026-11-25", "version": 1}, headers=world.headers("dev_a")
    )
    assert await day_classes(client, world) == [("08:00", "DAYBREAK")]
    assert await day_classes(client, world, day="2026-11-25") == [("09:00", "DAYBREAK")]


# --- Optimistic concurrency -------------------------------------------------------------------------------------


async def test_a_change_without_a_version_is_refused_with_428(client: Client, world: World) -> None:
    entry = world.entries["dev_a"]
    response = await client.patch(f"/api/entries/{entry.id}", json={"description": "x"}, headers=world.headers("dev_a"))
    assert response.status_code == 428


async def test_if_match_carries_the_version(client: Client, world: World) -> None:
    entry_id = world.entries["dev_a"].id
    read = await client.get(f"/api/entries/{entry_id}", headers=world.headers("dev_a"))
    etag = read.headers["etag"]
    headers = {**world.headers("dev_a"), "If-Match": etag}
    first = await client.patch(f"/api/entries/{entry_id}", json={"description": "one"}, headers=headers)
    assert first.status_code == 200
    assert first.headers["etag"] == '"2"'
    stale = await client.patch(f"/api/entries/{entry_id}", json={"description": "two"}, headers=headers)
    assert stale.status_code == 409
    assert "version 2, not 1" in stale.json()["detail"]


async def test_concurrent_changes_with_the_same_version_exactly_one_wins(
    make_client: Any, database_url: str, world: World
) -> None:
    entry_id = world.entries["dev_a"].id
    async with make_client(database_url) as one, make_client(database_url) as other:
        responses = await asyncio.gather(
            *(
                client.patch(
                    f"/api/entries/{entry_id}",
                    json={"description": f"writer {n}", "version": 1},
                    headers=world.headers("dev_a"),
                )
                for n, client in enumerate([one, other, one, other])
            )
        )
        final = await one.get(f"/api/entries/{entry_id}", headers=world.headers("dev_a"))
    codes = sorted(response.status_code for response in responses)
    assert codes == [200, 409, 409, 409]
    winner = next(response for response in responses if response.status_code == 200)
    assert final.json()["description"] == winner.json()["description"]
    assert final.json()["version"] == 2


# --- Revisions --------------------------------------------------------------------------------------------------


async def test_every_change_is_recorded_with_who_and_what(client: Client, world: World) -> None:
    created = (await book(client, world, ticket="ALP-5")).json()
    entry_id = created["id"]
    await client.patch(
        f"/api/entries/{entry_id}", json={"ticket": "alp-6", "version": 1}, headers=world.headers("admin")
    )
    await client.delete(f"/api/entries/{entry_id}", headers=world.headers("dev_a"))

    hidden = await client.get(f"/api/entries/{entry_id}/revisions", headers=world.headers("admin"))
    assert hidden.status_code == 404  # the entry is deleted: hidden with its trail
    revisions = await revisions_of(world, entry_id)
    assert [(r.action, r.author_id) for r in revisions] == [
        ("create", world.users["dev_a"].id),
        ("update", world.users["admin"].id),
        ("delete", world.users["dev_a"].id),
    ]
    assert revisions[0].changes["ticket"] == [None, "ALP-5"]
    assert revisions[1].changes == {"ticket": ["ALP-5", "ALP-6"]}
    assert revisions[2].changes["start"] == ["08:00", None]


async def revisions_of(world: World, entry_id: int) -> list[Any]:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        revisions = await list_revisions(session, entry_id)
    await engine.dispose()
    return revisions


async def test_the_revision_endpoint_lists_the_trail(client: Client, world: World) -> None:
    entry = world.entries["dev_a"]
    await client.patch(
        f"/api/entries/{entry.id}", json={"description": "x", "version": 1}, headers=world.headers("dev_a")
    )
    response = await client.get(f"/api/entries/{entry.id}/revisions", headers=world.headers("pl_a"))
    assert [(r["action"], r["source"]) for r in response.json()] == [("create", "api"), ("update", "api")]
    assert response.json()[1]["changes"] == {"description": ["", "x"]}


# --- Sync state -------------------------------------------------------------------------------------------------


async def test_entries_on_a_project_whose_ticket_system_books_time_are_pending(
    client: Client, world: World, database_url: str
) -> None:
    assert world.ticket_system is not None
    await update_row(database_url, TicketSystem, world.ticket_system.id, book_time=True)
    await update_row(database_url, Project, world.id("projects", "Alpha Web"), ticket_system_id=world.ticket_system.id)

    with_ticket = await book(client, world, ticket="ALP-1")
    assert with_ticket.json()["sync_state"] == "pending"
    without_ticket = await book(client, world, start="10:00", end="11:00")
    assert without_ticket.json()["sync_state"] is None

    await update_row(database_url, TicketSystem, world.ticket_system.id, enabled=False)
    assert (await book(client, world, ticket="ALP-2", start="12:00", end="13:00")).json()["sync_state"] is None


# --- Bulk -------------------------------------------------------------------------------------------------------


async def bulk(client: Client, world: World, **values: Any) -> Any:
    assert world.preset is not None
    body = {"preset_id": world.preset.id, "ticket": "ALP-9", **values}
    return await client.post("/api/entries/bulk", json=body, headers=world.headers("dev_a"))


async def test_bulk_skips_weekends_holidays_and_days_without_contract_hours(
    client: Client, world: World, database_url: str
) -> None:
    await add_rows(database_url, Holiday(day=date(2026, 12, 2), name="Local holiday"))
    # Monday 30 November to Sunday 6 December, weekends included on request: the contract has no weekend hours.
    response = await bulk(
        client, world, first_day="2026-11-30", last_day="2026-12-06", start="09:00", end="12:00", skip_weekends=False
    )
    assert response.status_code == 201, response.text
    assert [e["day"] for e in response.json()] == ["2026-11-30", "2026-12-01", "2026-12-03", "2026-12-04"]
    assert {(e["start"], e["end"], e["ticket"]) for e in response.json()} == {("09:00", "12:00", "ALP-9")}


async def test_bulk_with_use_contract_runs_each_day_from_eight_for_the_contract_hours(
    client: Client, world: World
) -> None:
    response = await bulk(client, world, first_day="2026-11-30", last_day="2026-12-01", use_contract=True)
    assert response.status_code == 201, response.text
    assert [(e["start"], e["end"], e["duration"]) for e in response.json()] == [("08:00", "16:00", 480)] * 2


async def test_bulk_is_all_or_nothing(client: Client, world: World) -> None:
    assert world.contract is not None
    response = await client.patch(
        f"/api/contracts/{world.contract.id}", json={"hours_2": 20}, headers=world.headers("admin")
    )
    assert response.status_code == 200
    # Monday 30 November works; Tuesday's 20 hours from 08:00 would run past midnight.
    failed = await bulk(client, world, first_day="2026-11-30", last_day="2026-12-01", use_contract=True)
    assert failed.status_code == 422
    assert "past midnight" in failed.json()["detail"]
    listed = await client.get("/api/entries?first_day=2026-11-30", headers=world.headers("dev_a"))
    assert listed.json()["items"] == []


async def test_bulk_covers_at_most_100_days(client: Client, world: World) -> None:
    response = await bulk(client, world, first_day="2026-01-01", last_day="2026-04-11", start="08:00", end="09:00")
    assert response.status_code == 422
    assert "at most 100 days" in response.json()["detail"]


# --- Listing ----------------------------------------------------------------------------------------------------


async def test_lists_are_newest_first_and_filter(client: Client, world: World) -> None:
    await book(client, world, day="2026-11-25", start="08:00", end="09:00")
    await book(client, world, day="2026-11-25", start="10:00", end="11:00", ticket="ALP-4")
    response = await client.get("/api/entries", headers=world.headers("dev_a"))
    assert [(e["day"], e["start"]) for e in response.json()["items"]] == [
        ("2026-11-25", "10:00"),
        ("2026-11-25", "08:00"),
        ("2026-11-23", "09:00"),
    ]
    by_ticket = await client.get("/api/entries?ticket=alp-4", headers=world.headers("dev_a"))
    assert [e["ticket"] for e in by_ticket.json()["items"]] == ["ALP-4"]
    by_day = await client.get("/api/entries?first_day=2026-11-24&last_day=2026-11-24", headers=world.headers("dev_a"))
    assert by_day.json()["total"] == 0


async def test_cursor_pages_hold_every_entry_once_in_the_lists_order(client: Client, world: World) -> None:
    for day, start, end in [
        ("2026-11-24", "08:00", "09:00"),
        ("2026-11-24", "08:00", "08:30"),  # the same start: ties are broken by id
        ("2026-11-24", "10:00", "11:00"),
        ("2026-11-25", "08:00", "09:00"),
        ("2026-11-26", "07:00", "08:00"),
        ("2026-11-26", "07:00", "07:45"),
    ]:
        assert (await book(client, world, day=day, start=start, end=end)).status_code == 201
    headers = world.headers("dev_a")
    by_offset = (await client.get("/api/entries?offset=0&limit=500", headers=headers)).json()
    assert by_offset["total"] == 7
    assert by_offset["next_cursor"] is None

    seen, cursor, pages = [], None, 0
    while True:
        query = "/api/entries?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=headers)).json()
        assert page["total"] is None  # not counted unless asked for
        seen += [entry["id"] for entry in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == [entry["id"] for entry in by_offset["items"]]

    counted = (await client.get("/api/entries?limit=2&total=true", headers=headers)).json()
    assert counted["total"] == 7
    whole = (await client.get("/api/entries", headers=headers)).json()
    assert whole["total"] == 7
    assert whole["next_cursor"] is None
    legacy = (await client.get("/api/entries?offset=2&limit=2", headers=headers)).json()
    assert [entry["id"] for entry in legacy["items"]] == seen[2:4]
    assert (legacy["total"], legacy["offset"]) == (7, 2)


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMiwzXQ", "W10", "WyJ4IiwiMDk6MDAiLDFd"])
async def test_a_cursor_the_list_did_not_hand_out_is_refused(client: Client, world: World, cursor: str) -> None:
    response = await client.get(f"/api/entries?cursor={cursor}", headers=world.headers("dev_a"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "cursor is not one this list handed out"
    both = await client.get("/api/entries?offset=0&cursor=W10", headers=world.headers("dev_a"))
    assert both.status_code == 422
