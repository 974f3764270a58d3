"""Ticket search for the booking form: the cache first, the tracker once on a miss, never a failure because of it.

Alpha Web books in a Tasklog system with the prefixes ALP and TL; dev_a's link is connected (`linked`). Runs on
PostgreSQL and SQLite.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Project, Ticket, TicketSystem
from tests.api.world import World

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def api_database_url(database_url: str) -> str:
    return database_url


async def cache(world: World, system_id: int, *tickets: tuple[str, str, int]) -> None:
    """Put tickets (key, summary, minutes ago changed) into the cache."""
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        for key, summary, minutes_ago in tickets:
            session.add(
                Ticket(
                    ticket_system_id=system_id, key=key, summary=summary, status="open",
                    remote_updated_at=NOW - timedelta(minutes=minutes_ago), fetched_at=NOW,
                )
            )  # fmt: skip
        await session.commit()
    await engine.dispose()


async def cached_keys(world: World, system_id: int) -> set[str]:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        keys = set((await session.scalars(select(Ticket.key).where(Ticket.ticket_system_id == system_id))).all())
    await engine.dispose()
    return keys


async def search(client: Client, world: World, who: str = "dev_a", **params: Any) -> Any:
    params.setdefault("project_id", world.id("projects", "Alpha Web"))
    return await client.get("/api/tickets", params=params, headers=world.headers(who))


async def keys(client: Client, world: World, who: str = "dev_a", **params: Any) -> list[str]:
    response = await search(client, world, who, **params)
    assert response.status_code == 200, response.text
    return [ticket["key"] for ticket in response.json()]


async def test_the_cache_answers_by_key_prefix_then_summary_text(
    client: Client, world: World, linked: int, tasklog: FakeTasklog
) -> None:
    await cache(
        world, linked,
        ("TL-1", "Login page", 30), ("TL-12", "Logout button", 10), ("TL-2", "Invoices", 5),
        ("ALP-7", "Blog about TL-1", 1), ("OTHER-1", "Login elsewhere", 1),
    )  # fmt: skip
    # Keys starting with the text first (the most recently changed first), then summaries containing it.
    assert await keys(client, world, q="tl-1") == ["TL-12", "TL-1", "ALP-7"]
    # Any case; OTHER-1 is left out: Alpha Web does not take it.
    assert await keys(client, world, q="LOG") == ["ALP-7", "TL-12", "TL-1"]
    assert await keys(client, world, q="log", limit=2) == ["ALP-7", "TL-12"]
    # Without text: the most recently changed tickets the project takes.
    assert await keys(client, world) == ["ALP-7", "TL-2", "TL-12", "TL-1"]
    assert tasklog.count("issues") == 0

    [first] = (await search(client, world, q="invoices")).json()
    assert first == {
        "key": "TL-2",
        "summary": "Invoices",
        "status": "open",
        "assignee": None,
        "ticket_system_id": linked,
    }


async def test_a_miss_asks_the_tracker_once_with_the_callers_link_and_caches_the_answer(
    client: Client, world: World, linked: int, tasklog: FakeTasklog
) -> None:
    tasklog.edit_issue("TL-2", assignee="Ada Lovelace")
    tasklog.add_issue("XY-5", "Invoice template")  # a ticket Alpha Web does not take
    found = (await search(client, world, q="invoice")).json()
    assert found == [
        {"key": "TL-2", "summary": "Invoices", "status": "open", "assignee": "Ada Lovelace", "ticket_system_id": linked}
    ]
    assert tasklog.count("issues") == 1
    assert await cached_keys(world, linked) == {"TL-2", "XY-5"}  # all of the answer serves later checks

    tasklog.fail_next(500)
    assert await keys(client, world, q="invoice") == ["TL-2"]  # from the cache now
    assert tasklog.count("issues") == 1


@pytest.mark.parametrize(("status", "headers"), [(500, {}), (503, {}), (429, {"Retry-After": "30"}), (401, {})])
async def test_a_failing_tracker_leaves_the_cache_answer(
    client: Client, world: World, linked: int, tasklog: FakeTasklog, status: int, headers: dict[str, str]
) -> None:
    await cache(world, linked, ("TL-9", "Reports", 1))
    tasklog.fail_next(status, headers)
    response = await search(client, world, q="invoice")
    assert (response.status_code, response.json()) == (200, [])
    assert await keys(client, world, q="rep") == ["TL-9"]


async def test_a_tracker_that_is_gone_leaves_the_cache_answer(
    client: Client, world: World, linked: int, tasklog: FakeTasklog
) -> None:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = await session.get(TicketSystem, linked)
        assert system is not None
        system.base_url = "http://127.0.0.1:9"  # nothing listens there
        await session.commit()
    await engine.dispose()
    response = await search(client, world, q="invoice")
    assert (response.status_code, response.json()) == (200, [])


async def test_without_a_link_only_the_cache_answers(
    client: Client, world: World, linked: int, tasklog: FakeTasklog
) -> None:
    await cache(world, linked, ("TL-3", "Invoice run", 1))
    assert await keys(client, world, "user_a", q="invoice") == ["TL-3"]  # user_a books on Alpha Web, has no link
    assert await keys(client, world, "user_a", q="login") == []
    assert tasklog.count("issues") == 0


async def test_a_spent_budget_leaves_the_cache_answer(
    client: Client, world: World, linked: int, tasklog: FakeTasklog, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Spent:
        async def take_budget(self, system_id: int) -> None:
            await asyncio.sleep(3600)

    monkeypatch.setattr("gateway.core.ticket_search.BUDGET_WAIT_SECONDS", 0.2)
    client.app.state.coordinator = Spent()
    response = await search(client, world, q="invoice")
    assert (response.status_code, response.json()) == (200, [])
    assert tasklog.count("issues") == 0


async def test_a_project_outside_the_callers_view_is_not_found(client: Client, world: World, linked: int) -> None:
    response = await search(client, world, "dev_b", q="TL")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_project_without_a_ticket_system_has_no_tickets(client: Client, world: World, linked: int) -> None:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        project = await session.get(Project, world.id("projects", "Alpha Web"))
        assert project is not None
        project.ticket_system_id = None
        await session.commit()
    await engine.dispose()
    assert await keys(client, world, q="TL") == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 51}, {"project_id": 0}, {"project_id": "x"}])
async def test_bad_parameters_are_refused(client: Client, world: World, linked: int, params: dict[str, Any]) -> None:
    response = await search(client, world, **params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
