from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.world import World

Client = AsyncTestClient[Litestar]


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("admin", ["Alpha", "Beta", "Globex"]),
        ("pl_a", ["Alpha", "Globex"]),
        ("dev_a", ["Alpha", "Globex"]),
        ("user_a", ["Alpha", "Globex"]),
        ("dev_b", ["Beta", "Globex"]),
    ],
)
async def test_each_role_lists_the_customers_it_may_see(
    client: Client, world: World, username: str, visible: list[str]
) -> None:
    response = await client.get("/api/customers", headers=world.headers(username))
    assert response.status_code == 200
    body = response.json()
    assert [c["name"] for c in body["items"]] == visible
    assert body["total"] == len(visible)


async def test_a_user_reading_a_customer_of_another_team_gets_404(client: Client, world: World) -> None:
    response = await client.get(f"/api/customers/{world.id('customers', 'Beta')}", headers=world.headers("user_a"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_anonymous_callers_get_401(client: Client, world: World) -> None:
    response = await client.get("/api/customers")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("username", "status"), [("admin", 201), ("pl_a", 201), ("dev_a", 403), ("user_a", 403)])
async def test_admin_and_pl_create_customers(client: Client, world: World, username: str, status: int) -> None:
    body = {"name": f"New by {username}", "team_ids": [world.id("teams", "A")]}
    response = await client.post("/api/customers", json=body, headers=world.headers(username))
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["team_ids"] == [world.id("teams", "A")]


async def test_a_pl_cannot_hand_a_customer_to_another_team(client: Client, world: World) -> None:
    body = {"name": "Sneaky", "team_ids": [world.id("teams", "B")]}
    response = await client.post("/api/customers", json=body, headers=world.headers("pl_a"))
    assert response.status_code == 403


async def test_a_pl_outside_the_team_cannot_see_or_change_its_customer(client: Client, world: World) -> None:
    alpha = world.id("customers", "Alpha")
    response = await client.patch(f"/api/customers/{alpha}", json={"name": "Mine"}, headers=world.headers("pl_b"))
    assert response.status_code == 404


async def test_a_pl_may_not_change_a_global_customer_outside_their_teams(client: Client, world: World) -> None:
    globex = world.id("customers", "Globex")
    response = await client.patch(f"/api/customers/{globex}", json={"active": False}, headers=world.headers("pl_a"))
    assert response.status_code == 403


async def test_patch_changes_only_the_given_fields(client: Client, world: World) -> None:
    alpha = world.id("customers", "Alpha")
    response = await client.patch(f"/api/customers/{alpha}", json={"active": False}, headers=world.headers("pl_a"))
    assert response.status_code == 200
    assert response.json() == {
        "id": alpha,
        "name": "Alpha",
        "active": False,
        "global": False,
        "team_ids": [world.id("teams", "A")],
    }


async def test_duplicate_names_are_a_conflict(client: Client, world: World) -> None:
    response = await client.post("/api/customers", json={"name": "Beta"}, headers=world.headers("admin"))
    assert response.status_code == 409


async def test_unknown_fields_are_rejected_with_the_field_named(client: Client, world: World) -> None:
    response = await client.post("/api/customers", json={"name": "X", "colour": "red"}, headers=world.headers("admin"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Object contains unknown field `colour`"


async def test_deleted_customers_disappear_and_their_name_is_free_again(client: Client, world: World) -> None:
    beta = world.id("customers", "Beta")
    assert (await client.delete(f"/api/customers/{beta}", headers=world.headers("admin"))).status_code == 204
    assert (await client.get(f"/api/customers/{beta}", headers=world.headers("admin"))).status_code == 404
    again = await client.post("/api/customers", json={"name": "Beta"}, headers=world.headers("admin"))
    assert again.status_code == 201


async def test_lists_page_and_sort(client: Client, world: World) -> None:
    response = await client.get("/api/customers?limit=2&offset=1&sort=-name", headers=world.headers("admin"))
    body = response.json()
    assert [c["name"] for c in body["items"]] == ["Beta", "Alpha"]
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 1)
    bad = await client.get("/api/customers?sort=colour", headers=world.headers("admin"))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["key"] == "sort"
