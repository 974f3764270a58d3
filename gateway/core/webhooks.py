"""Webhook ingress: verify, de-duplicate, update the ticket cache, and ask affected links to sync.

Nothing is stored for a request whose signature does not verify. A ticket system that does not exist, was
deleted or is disabled answers exactly as a wrong signature does, so a caller without the secret cannot tell
which ids exist. The delivery id (stable across the tracker's retries) is recorded once; a replay is
acknowledged and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import Rejected, WebhookEvent, WebhookEventKind
from gateway.core import metrics
from gateway.core.errors import AuthenticationFailed, InvalidInput, NotFound
from gateway.core.links import ConnectorRuntime, build_connector, live_system
from gateway.core.logs import get_logger
from gateway.core.models import Link, WebhookDelivery
from gateway.core.sync_requests import request_sync
from gateway.core.ticket_cache import drop_ticket, upsert_ticket

log = get_logger("gateway.webhooks")
REFUSED = "the webhook's signature or token does not match a ticket system's secret"


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    duplicate: bool
    events: int
    links_to_sync: list[int]


async def receive_webhook(
    session: AsyncSession,
    system_id: int,
    headers: Mapping[str, str],
    body: bytes,
    runtime: ConnectorRuntime,
    *,
    now: datetime,
) -> WebhookOutcome:
    try:
        system = await live_system(session, system_id)
    except NotFound:
        log.info("webhook refused", ticket_system_id=system_id, reason="no such ticket system")
        metrics.webhook_delivery(None, "refused")
        raise AuthenticationFailed(REFUSED) from None
    if not system.enabled:
        log.info("webhook refused", ticket_system_id=system_id, reason="the ticket system is disabled")
        metrics.webhook_delivery(system.type, "refused")
        raise AuthenticationFailed(REFUSED)
    connector = build_connector(system, runtime)
    headers = {name.lower(): value for name, value in headers.items()}
    if not connector.verify_webhook(headers, body):
        log.info("webhook refused", ticket_system_id=system_id, reason="signature or token does not match")
        metrics.webhook_delivery(system.type, "refused")
        raise AuthenticationFailed(REFUSED)
    try:
        delivery = connector.parse_webhook(headers, body)
    except Rejected as exc:
        raise InvalidInput(f"the webhook body cannot be read: {exc}") from None

    try:
        async with session.begin_nested():
            session.add(WebhookDelivery(ticket_system_id=system.id, delivery_id=delivery.delivery_id, received_at=now))
    except IntegrityError:
        metrics.webhook_delivery(system.type, "duplicate")
        return WebhookOutcome(duplicate=True, events=len(delivery.events), links_to_sync=[])
    metrics.webhook_delivery(system.type, "accepted")

    links: set[int] = set()
    for event in delivery.events:
        links |= await _apply(session, system.id, event, now=now)
    return WebhookOutcome(
        duplicate=False, events=len(delivery.events), links_to_sync=await request_sync(session, links, now=now)
    )


async def _apply(session: AsyncSession, system_id: int, event: WebhookEvent, *, now: datetime) -> set[int]:
    if event.kind is WebhookEventKind.TICKET_CHANGED and event.ticket is not None:
        await upsert_ticket(session, system_id, event.ticket, now=now)
    elif event.kind is WebhookEventKind.TICKET_DELETED and event.ticket_key:
        await drop_ticket(session, system_id, event.ticket_key)
    elif event.kind is WebhookEventKind.WORKLOG_CHANGED:
        stmt = select(Link.id).where(
            Link.ticket_system_id == system_id,
            Link.enabled.is_(True),
            Link.access_token.is_not(None),
        )
        if event.account_id is not None:
            stmt = stmt.where(Link.remote_account_id == event.account_id)
        return set((await session.scalars(stmt)).all())
    return set()
