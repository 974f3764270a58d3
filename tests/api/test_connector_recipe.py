"""The connector author's guide's end-to-end recipe (docs/connectors.md), run as written against the example
connector's token-only Tasklog: the documented bodies create the ticket system, customer, activity, project, link
and entry, `gateway sync --dry-run` shows the create, and `gateway sync` puts the worklog into the tracker."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.support import Run

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "connectors.md").read_text()


def recipe(name: str) -> Any:
    found = re.search(rf"<!-- recipe: {name} -->\n```json\n(.*?)\n```", GUIDE, flags=re.DOTALL)
    assert found is not None, f"the guide has no recipe step {name!r}"
    return json.loads(found.group(1))


async def call(client: AsyncTestClient[Litestar], world: World, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, path, json=body, headers=world.headers("admin"))
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


async def test_the_guides_recipe_puts_a_worklog_into_the_tracker(
    make_client: AppClientFactory, world: World, tasklog: FakeTasklog, run_gateway: Run, key_line: str, redis_url: str
) -> None:
    """The documented bodies, as written, but for where the tracker is, which installed connector serves it and
    the ids the answers give. Jobs queue in Redis, where no worker runs: the recipe's own command syncs."""
    tasklog.add_issue("DEMO-1", "The recipe's ticket")
    async with make_client(world.database_url, redis_url=redis_url) as client:
        system = await call(client, world, "POST", "/api/ticket-systems", {
            **recipe("ticket-system"), "type": "tasklog-token", "base_url": tasklog.base_url,
            "ticket_url": f"{tasklog.base_url}/tickets/{{key}}",
        })  # fmt: skip
        assert system["book_time"] is True
        customer = await call(client, world, "POST", "/api/customers", recipe("customer"))
        activity = await call(client, world, "POST", "/api/activities", recipe("activity"))
        project = await call(client, world, "POST", "/api/projects", {
            **recipe("project"), "customer_id": customer["id"], "ticket_system_id": system["id"],
        })  # fmt: skip
        me = await call(client, world, "GET", "/api/me")
        await call(client, world, "PUT", f"/api/users/{me['id']}/ticket-systems/{system['id']}", recipe("link"))
        token, _refresh = tasklog.issue_tokens("u1", lifetime=3600)
        connected = await call(client, world, "POST", f"/api/me/ticket-systems/{system['id']}/connect", {
            **recipe("connect"), "api_key": token,
        })  # fmt: skip
        assert connected["state"] == "connected"
        entry = await call(client, world, "POST", "/api/entries", {
            **recipe("entry"), "project_id": project["id"], "activity_id": activity["id"],
        })  # fmt: skip
        assert entry["sync_state"] == "pending"

    env = {"DATABASE_URL": world.database_url, "GATEWAY_SECRET_KEYS": key_line}
    preview = await asyncio.to_thread(run_gateway, "sync", "--user", "admin", "--dry-run", **env)
    assert preview.returncode == 0, preview.stderr
    assert f"create entry {entry['id']} on DEMO-1" in preview.stdout
    assert tasklog.worklogs == {}
    synced = await asyncio.to_thread(run_gateway, "sync", "--user", "admin", **env)
    assert synced.returncode == 0, synced.stderr
    [worklog] = tasklog.worklogs.values()
    assert (worklog["issue"], worklog["date"], worklog["start"], worklog["minutes"]) == (
        "DEMO-1",
        "2026-11-24",
        "09:00",
        90,
    )
    assert (worklog["note"], worklog["marker"]) == ("First worklog through the gateway", entry["uuid"])
