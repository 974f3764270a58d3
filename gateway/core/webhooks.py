"""Webhook ingress: verify, record the delivery once, queue the webhook job.

Nothing is stored for a request whose signature does not verify. A ticket system that does not exist, was
deleted or is disabled answers exactly as a wrong signature does, so a caller without the secret cannot tell
which ids exist. The delivery id (stable across the tracker's retries) is recorded once, with the events it
carries; a replay is acknowledged and changes nothing. What the events mean for the ticket cache and the links'
syncs is the webhook job's work (`webhook_deliveries`), so a request costs a few round trips: the system's row,
one insert, the job's queueing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import Connector, Rejected
from gateway.core import metrics
from gateway.core.errors import AuthenticationFailed, InvalidInput, NotFound
from gateway.core.links import ConnectorRuntime, build_connector, live_system
from gateway.core.logs import get_logger
from gateway.core.models import TicketSystem, WebhookDelivery
from gateway.core.sync.jobs import JobQueue
from gateway.core.webhook_deliveries import HANDLE_DELIVERIES, encode_events

log = get_logger("gateway.webhooks")
REFUSED = "the webhook's signature or token does not match a ticket system's secret"


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    duplicate: bool
    events: int


class ConnectorCache:
    """Connectors built for webhooks, reused while their ticket system's row is unchanged.

    Building one validates the config and decrypts the system's secrets; a busy tracker sends many deliveries a
    second. The key holds everything the connector is built from (a change of config, base URL or secrets also
    changes `updated_at`; the secrets' ciphertext covers a key rotation), so a changed system is built afresh.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._built: OrderedDict[int, tuple[Hashable, Connector[Any]]] = OrderedDict()

    def connector(self, system: TicketSystem, runtime: ConnectorRuntime) -> Connector[Any]:
        key = (
            system.type,
            system.updated_at,
            system.base_url,
            system.secrets,
            runtime.public_url,
            id(runtime.key_ring),
        )
        found = self._built.get(system.id)
        if found is not None and found[0] == key:
            self._built.move_to_end(system.id)
            return found[1]
        connector = build_connector(system, runtime)
        self._built[system.id] = (key, connector)
        self._built.move_to_end(system.id)
        while len(self._built) > self.size:
            self._built.popitem(last=False)
        return connector


async def receive_webhook(
    session: AsyncSession,
    system_id: int,
    headers: Mapping[str, str],
    body: bytes,
    runtime: ConnectorRuntime,
    *,
    connectors: ConnectorCache,
    queue: JobQueue,
    now: datetime,
) -> WebhookOutcome:
    """Verify and record a delivery, then queue the job that applies it; the session's statements each commit
    on their own (the recorded delivery is committed before the job is queued)."""
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
    connector = connectors.connector(system, runtime)
    headers = {name.lower(): value for name, value in headers.items()}
    if not connector.verify_webhook(headers, body):
        log.info("webhook refused", ticket_system_id=system_id, reason="signature or token does not match")
        metrics.webhook_delivery(system.type, "refused")
        raise AuthenticationFailed(REFUSED)
    try:
        delivery = connector.parse_webhook(headers, body)
    except Rejected as exc:
        raise InvalidInput(f"the webhook body cannot be read: {exc}") from None

    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    recorded = await session.scalar(
        insert(WebhookDelivery)
        .values(
            ticket_system_id=system.id,
            delivery_id=delivery.delivery_id,
            received_at=now,
            events=encode_events(delivery.events),
        )
        .on_conflict_do_nothing(index_elements=["ticket_system_id", "delivery_id"])
        .returning(WebhookDelivery.id)
    )
    await session.commit()
    if recorded is None:
        metrics.webhook_delivery(system.type, "duplicate")
        return WebhookOutcome(duplicate=True, events=len(delivery.events))
    metrics.webhook_delivery(system.type, "accepted")
    await queue.enqueue(HANDLE_DELIVERIES, system.id)
    return WebhookOutcome(duplicate=False, events=len(delivery.events))
