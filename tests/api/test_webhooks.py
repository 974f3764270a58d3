"""Webhook ingress with the example connector: verify, record once, and (in the webhook job) cache tickets and
ask links to sync."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from gateway.connectors import Credentials, hmac_sha256_hex
from gateway.core.db import create_engine, create_session_factory
from gateway.core.models import Link, Ticket, TicketSystem, WebhookDelivery
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.sync.jobs import due_jobs
from gateway.core.vault import KeyRing
from gateway.core.webhook_deliveries import HANDLE_DELIVERIES, handle_deliveries
from tests.api.world import World

try:
    from example_connector.fake_tasklog import FakeTasklog
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)

Client = AsyncTestClient[Litestar]


@pytest.fixture
def tasklog() -> FakeTasklog:
    return FakeTasklog()  # not served: webhooks need only its state and its signing


@pytest.fixture
async def system_id(world: World, tasklog: FakeTasklog, key_ring: KeyRing) -> int:
    """A Tasklog ticket system with a webhook secret, and connected links for dev_a (u1) and dev_b (u2)."""
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = TicketSystem(
            name="Tasklog",
            type="tasklog",
            base_url="http://127.0.0.1:9",
            config={"client_id": "gateway"},
            secrets=seal_system_secrets({"webhook_secret": tasklog.webhook_secret}, key_ring),
        )
        session.add(system)
        await session.flush()
        for username, account in (("dev_a", "u1"), ("dev_b", "u2")):
            link = Link(user_id=world.users[username].id, ticket_system_id=system.id, enabled=True)
            store_credentials(link, Credentials(access_token=f"token-{account}", account_id=account), key_ring)
            session.add(link)
        await session.commit()
        system_id = system.id
    await engine.dispose()
    return system_id


async def count(world: World, model: type) -> int:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        found = await session.scalar(select(func.count()).select_from(model)) or 0
    await engine.dispose()
    return found


async def sync_requested(world: World) -> dict[str, bool]:
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        links = (await session.scalars(select(Link))).all()
    await engine.dispose()
    names = {user.id: name for name, user in world.users.items()}
    return {names[link.user_id]: link.sync_requested_at is not None for link in links}


async def post(client: Client, system_id: int, headers: dict[str, str], body: bytes) -> httpx.Response:
    return await client.post(f"/api/webhooks/{system_id}", content=body, headers=headers)


async def settled(client: Client) -> None:
    """Wait until the webhook job (run in the API process without Redis) has handled every recorded delivery."""
    factory = client.app.state.session_factory
    for _ in range(200):
        async with factory() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.processed_at.is_(None))
            )
        if not waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} deliveries were not handled")


async def test_a_signed_ticket_change_updates_the_cache(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    issue = {**tasklog.issues["TL-1"], "title": "Login page, redesigned"}
    headers, body = tasklog.webhook("issue.updated", issue=issue)
    response = await post(client, system_id, headers, body)
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "events": 1}
    await settled(client)
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.key == "TL-1"))
    await engine.dispose()
    assert ticket is not None
    assert ticket.summary == "Login page, redesigned"


async def test_a_forged_webhook_is_refused_and_nothing_is_stored(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    headers, body = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"], secret="not the secret")
    response = await post(client, system_id, headers, body)
    assert response.status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Tasklog-Signature"}
    assert (await post(client, system_id, unsigned, body)).status_code == 401
    assert await count(world, WebhookDelivery) == 0
    assert await count(world, Ticket) == 0


async def test_a_replayed_delivery_is_acknowledged_and_ignored(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    headers, body = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-2"], delivery_id="delivery-1")
    first = await post(client, system_id, headers, body)
    again = await post(client, system_id, headers, body)
    assert first.json()["status"] == "accepted"
    assert again.status_code == 202
    assert again.json()["status"] == "duplicate"
    assert await count(world, WebhookDelivery) == 1


async def test_a_worklog_change_asks_the_authors_link_to_sync(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    headers, body = tasklog.webhook("worklog.updated", worklog={"id": "7", "issue": "TL-1", "author": "u2"})
    assert (await post(client, system_id, headers, body)).status_code == 202
    await settled(client)
    assert await sync_requested(world) == {"dev_a": False, "dev_b": True}


async def test_a_deleted_issue_leaves_the_cache(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    await post(client, system_id, *tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"]))
    await post(client, system_id, *tasklog.webhook("issue.deleted", issue={"key": "TL-1"}))
    await settled(client)
    assert await count(world, Ticket) == 0


async def test_oversize_bodies_get_413(client: Client, world: World, tasklog: FakeTasklog, system_id: int) -> None:
    headers, body = tasklog.webhook("issue.updated", issue={**tasklog.issues["TL-1"], "padding": "x" * 2_000_000})
    response = await post(client, system_id, headers, body)
    assert response.status_code == 413
    assert await count(world, WebhookDelivery) == 0


async def test_unknown_deleted_and_disabled_systems_answer_like_a_forged_signature(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    """A caller without the secret learns nothing about which ids exist, and nothing is stored."""
    headers, body = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"])
    forged_headers, _ = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"], secret="wrong")
    forged = await post(client, system_id, forged_headers, body)
    answers = [forged, await post(client, 999999, headers, body)]
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        system = await session.get(TicketSystem, system_id)
        assert system is not None
        system.enabled = False
        await session.commit()
    answers.append(await post(client, system_id, headers, body))
    await engine.dispose()
    assert {response.status_code for response in answers} == {401}
    assert {response.json()["detail"] for response in answers} == {forged.json()["detail"]}
    assert await count(world, WebhookDelivery) == 0
    assert await count(world, Ticket) == 0
    # No ticket system can have an id beyond the column's range: that is a malformed request.
    assert (await post(client, 2**63, headers, body)).status_code == 400


async def test_an_unreadable_body_with_a_good_signature_is_a_client_error(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    headers, _ = tasklog.webhook("issue.updated", issue=tasklog.issues["TL-1"])
    body = b"not json"
    headers["X-Tasklog-Signature"] = "sha256=" + hmac_sha256_hex(tasklog.webhook_secret, body)
    response = await post(client, system_id, headers, body)
    assert response.status_code == 422


async def test_concurrent_deliveries_and_replays_are_each_handled_once_in_order(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    deliveries = [
        tasklog.webhook("issue.updated", issue={**tasklog.issues["TL-1"], "title": f"Title {n}"}, delivery_id=f"d{n}")
        for n in range(30)
    ]
    # Every delivery twice (the tracker retried), all at once.
    answers = await asyncio.gather(*(post(client, system_id, *delivery) for delivery in deliveries + deliveries))
    assert {answer.status_code for answer in answers} == {202}
    statuses = [answer.json()["status"] for answer in answers]
    assert (statuses.count("accepted"), statuses.count("duplicate")) == (30, 30)
    await settled(client)
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        recorded = (await session.scalars(select(WebhookDelivery))).all()
        ticket = await session.scalar(select(Ticket).where(Ticket.key == "TL-1"))
    await engine.dispose()
    assert sorted(d.delivery_id for d in recorded) == sorted(f"d{n}" for n in range(30))
    assert all(d.processed_at is not None and d.events is None for d in recorded)
    last = max(recorded, key=lambda d: d.id)
    assert ticket is not None
    assert ticket.summary == f"Title {last.delivery_id.removeprefix('d')}"  # applied in the order received


async def test_a_delivery_whose_job_was_never_queued_is_handled_by_the_sweep(
    client: Client, world: World, tasklog: FakeTasklog, system_id: int
) -> None:
    events = '[{"kind": "ticket_deleted", "ticket_key": "TL-9"}, {"kind": "worklog_changed", "account_id": "u1"}]'
    engine = create_engine(world.database_url)
    async with create_session_factory(engine)() as session:
        session.add(
            WebhookDelivery(
                ticket_system_id=system_id,
                delivery_id="lost",
                received_at=datetime.now(UTC) - timedelta(minutes=5),
                events=events,
            )
        )
        await session.commit()
    await engine.dispose()
    # The sweep (here on this test's own engine) finds it and the job handles it.
    engine = create_engine(world.database_url)
    deps = dataclasses.replace(client.app.state.sync_deps, session_factory=create_session_factory(engine))
    assert (HANDLE_DELIVERIES, system_id) in await due_jobs(deps)
    assert await handle_deliveries(deps, system_id) == 1
    assert (HANDLE_DELIVERIES, system_id) not in await due_jobs(deps)  # handled: not again
    await engine.dispose()
    assert await sync_requested(world) == {"dev_a": True, "dev_b": False}
