"""The webhook job: what a recorded delivery says reaches the ticket cache and the links' sync requests.

The request that received the delivery only verified it, recorded it once with its events and queued this job
(`webhooks.receive_webhook`); the job handles a ticket system's deliveries in the order received, each exactly
once: a delivery is marked handled in the transaction that applies it, under a row lock, so a second runner skips
it. A delivery whose job could not be queued (Redis down) is found by the sweep (`systems_with_deliveries`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import WebhookEvent, WebhookEventKind
from gateway.core.models import Link, WebhookDelivery
from gateway.core.sync.engine import SyncDeps
from gateway.core.sync_requests import request_sync
from gateway.core.ticket_cache import drop_ticket, upsert_ticket

HANDLE_DELIVERIES = "handle_webhook_deliveries"
# Deliveries handled per transaction.
BATCH = 100
# The sweep leaves younger deliveries to the job their request queued.
SWEEP_AFTER = timedelta(seconds=30)

_EVENTS = msgspec.json.Decoder(list[WebhookEvent])
_encode = msgspec.json.Encoder().encode


def encode_events(events: list[WebhookEvent]) -> str:
    return _encode(events).decode()


async def handle_deliveries(deps: SyncDeps, system_id: int) -> int:
    """Apply every delivery of the ticket system not handled yet, oldest first; returns how many."""
    handled = 0
    while True:
        async with deps.session_factory() as session:
            pending = (
                await session.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.ticket_system_id == system_id, WebhookDelivery.processed_at.is_(None))
                    .order_by(WebhookDelivery.id)
                    .limit(BATCH)
                    .with_for_update()
                )
            ).all()
            if not pending:
                return handled
            now = deps.clock()
            links: set[int] = set()
            for delivery in pending:
                for event in _EVENTS.decode(delivery.events or "[]"):
                    links |= await _apply(session, system_id, event, now=now)
                delivery.processed_at = now
                delivery.events = None
            await request_sync(session, links, now=now)
            await session.commit()
            handled += len(pending)


async def systems_with_deliveries(deps: SyncDeps) -> list[int]:
    """Ticket systems with a delivery that waited longer than its job should have taken (it was never queued)."""
    async with deps.session_factory() as session:
        ids = await session.scalars(
            select(WebhookDelivery.ticket_system_id)
            .where(WebhookDelivery.processed_at.is_(None), WebhookDelivery.received_at < deps.clock() - SWEEP_AFTER)
            .distinct()
        )
        return sorted(ids.all())


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
