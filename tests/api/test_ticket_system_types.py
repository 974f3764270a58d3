"""The installed ticket-system types, and ticket-system configs checked against the connector's struct."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.world import World

Client = AsyncTestClient[Litestar]


async def types(client: Client, world: World) -> dict[str, Any]:
    response = await client.get("/api/ticket-system-types", headers=world.headers("admin"))
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()}


async def test_the_types_are_the_installed_connectors_with_what_they_need(client: Client, world: World) -> None:
    found = await types(client, world)
    assert {"gitlab", "jira", "redmine", "tasklog", "tasklog-token"} <= set(found)
    redmine = found["redmine"]
    assert redmine["auth_mode_field"] == "auth"
    assert redmine["auth_modes"] == [
        {"name": "api_key", "kind": "api_key"},
        {"name": "admin", "kind": "api_key"},
        {"name": "oauth2", "kind": "oauth2"},
    ]
    assert redmine["capabilities"] == [
        "changed_tickets", "deletion_feed", "move_worklog", "refresh", "search", "webhooks",
    ]  # fmt: skip
    assert redmine["secret_names"] == ["admin_api_key", "client_secret", "webhook_secret"]
    window = redmine["config_schema"]["properties"]["pull_window_days"]
    assert (window["minimum"], window["maximum"], window["default"]) == (1, 366, 62)
    token = found["tasklog-token"]
    assert (token["auth_mode_field"], token["auth_modes"]) == (
        None,
        [{"name": "personal_token", "kind": "personal_token"}],
    )
    assert found["tasklog"]["config_schema"]["required"] == ["client_id"]
    assert found["tasklog"]["distribution"] == "timetracker-gateway-example-connector"


@pytest.mark.parametrize(
    ("name", "config", "valid"),
    [
        ("tasklog", {"client_id": "c"}, True),
        ("tasklog", {"client_id": "c", "page_size": 100}, True),
        ("tasklog", {}, False),
        ("tasklog", {"client_id": "c", "page_size": 0}, False),
        ("tasklog", {"client_id": "c", "colour": "red"}, False),
        ("redmine", {"auth": "admin", "activity_map": {"Development": 9}}, True),
        ("redmine", {"auth": "ldap"}, False),
        ("redmine", {"activity_map": {"Development": "nine"}}, False),
        ("jira", {"flavour": "datacenter", "auth": "oauth1", "consumer_key": "k"}, True),
        ("jira", {"flavour": "mainframe"}, False),
    ],
)
async def test_the_published_schema_agrees_with_the_gateway(
    client: Client, world: World, name: str, config: dict[str, Any], valid: bool
) -> None:
    response = await client.get(f"/api/ticket-system-types/{name}", headers=world.headers("admin"))
    schema = response.json()["config_schema"]
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(config) is valid
    body = {"name": f"{name} system", "type": name, "base_url": "http://127.0.0.1:9", "config": config}
    created = await client.post("/api/ticket-systems", json=body, headers=world.headers("admin"))
    if valid:
        # The schema cannot say everything a connector checks, but nothing it refuses is accepted.
        assert created.status_code != 422 or "invalid config" not in created.json()["detail"]
    else:
        assert created.status_code == 422
        assert created.json()["errors"][0]["key"].startswith("config")


@pytest.mark.parametrize(
    ("config", "key", "message"),
    [
        ({}, "config.client_id", "Object missing required field `client_id`"),
        ({"client_id": "c", "page_size": 0}, "config.page_size", "Expected `int` >= 1"),
        ({"client_id": "c", "colour": "red"}, "config.colour", "Object contains unknown field `colour`"),
        ({"client_id": 5}, "config.client_id", "Expected `str`, got `int`"),
    ],
)
async def test_a_ticket_system_config_names_the_field_at_fault(
    client: Client, world: World, config: dict[str, Any], key: str, message: str
) -> None:
    body = {"name": "T", "type": "tasklog", "base_url": "http://127.0.0.1:9", "config": config}
    created = await client.post("/api/ticket-systems", json=body, headers=world.headers("admin"))
    assert created.status_code == 422
    problem = created.json()
    assert problem["errors"] == [{"key": key, "message": problem["detail"]}]
    assert problem["detail"] == f"invalid config: {message}"


async def test_a_config_change_is_checked_too_and_changes_nothing_when_refused(client: Client, world: World) -> None:
    body = {"name": "R", "type": "redmine", "base_url": "http://127.0.0.1:9", "config": {"auth": "api_key"}}
    created = await client.post("/api/ticket-systems", json=body, headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    path = f"/api/ticket-systems/{created.json()['id']}"
    refused = await client.patch(
        path, json={"config": {"activity_map": {"Design": "eight"}}}, headers=world.headers("admin")
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["key"] == "config.activity_map"
    assert (await client.get(path, headers=world.headers("admin"))).json()["config"] == {"auth": "api_key"}


async def test_only_an_admin_reads_the_types(client: Client, world: World) -> None:
    for username in ("dev_a", "pl_a"):
        response = await client.get("/api/ticket-system-types", headers=world.headers(username))
        assert response.status_code == 403
    missing = await client.get("/api/ticket-system-types/frobnitz", headers=world.headers("admin"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no connector named 'frobnitz' is installed"
