"""The ADMIN's link endpoints: the users x ticket systems matrix, "test connection", and a sync of any link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link
from tests.api.world import World

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

Client = AsyncTestClient[Litestar]


async def test_the_matrix_shows_each_links_state_and_filters_by_team(client: Client, world: World, linked: int) -> None:
    response = await client.get("/api/admin/links", headers=world.headers("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Tasklog" in [s["name"] for s in body["ticket_systems"]]
    assert body["total"] == len(world.users)
    cells = {(c["user_id"], c["ticket_system_id"]): c for c in body["cells"]}
    dev_a = cells[(world.users["dev_a"].id, linked)]
    assert dev_a["enabled"] is True
    assert dev_a["state"] == "connected"
    assert dev_a["remote_account_id"] == "u1"
    assert dev_a["pending"] == 0

    team_b = await client.get(
        "/api/admin/links", params={"team_id": world.teams["B"].id}, headers=world.headers("admin")
    )
    assert sorted(u["username"] for u in team_b.json()["users"]) == ["dev_b", "pl_b"]
    assert team_b.json()["cells"] == []

    searched = await client.get("/api/admin/links", params={"q": "DEV_", "limit": 1}, headers=world.headers("admin"))
    assert searched.json()["total"] == 2
    assert len(searched.json()["users"]) == 1


async def test_only_an_admin_reads_the_matrix_tests_connections_or_syncs_others_links(
    client: Client, world: World, linked: int
) -> None:
    for who in ("pl_a", "dev_a", "user_a"):
        headers = world.headers(who)
        assert (await client.get("/api/admin/links", headers=headers)).status_code == 403
        assert (await client.post(f"/api/ticket-systems/{linked}/test", headers=headers)).status_code == 403
        sync = f"/api/admin/sync/users/{world.users['dev_a'].id}/ticket-systems/{linked}"
        response = await client.post(sync, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_test_connection_reports_the_trackers_answer(
    client: Client, world: World, linked: int, tasklog: FakeTasklog
) -> None:
    response = await client.post(f"/api/ticket-systems/{linked}/test", headers=world.headers("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    assert tasklog.base_url in response.json()["detail"]

    tasklog_url = tasklog.base_url
    await client.patch(
        f"/api/ticket-systems/{linked}",
        json={"base_url": "http://127.0.0.1:9/"},
        headers=world.headers("admin"),
    )
    gone = await client.post(f"/api/ticket-systems/{linked}/test", headers=world.headers("admin"))
    assert gone.status_code == 200
    assert gone.json()["ok"] is False
    assert "does not answer" in gone.json()["detail"]
    assert tasklog_url not in gone.json()["detail"]


async def test_an_admin_requests_a_sync_of_a_users_link(client: Client, world: World, linked: int) -> None:
    dev_a = world.users["dev_a"].id
    response = await client.post(
        f"/api/admin/sync/users/{dev_a}/ticket-systems/{linked}", headers=world.headers("admin")
    )
    assert response.status_code == 202, response.text
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        link = await session.scalar(select(Link).where(Link.user_id == dev_a))
        assert link is not None
        assert link.sync_requested_at is not None
    await engine.dispose()

    missing = await client.post(
        f"/api/admin/sync/users/{world.users['dev_b'].id}/ticket-systems/{linked}", headers=world.headers("admin")
    )
    assert missing.status_code == 404
