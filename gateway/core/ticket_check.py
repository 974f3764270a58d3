"""Is a ticket known to its tracker? Asked when an entry is saved with a ticket on a ticket system's project.

The answer comes from the ticket cache, or from one fetch with the user's own link (the result then fills the
cache). Only a clear "no such ticket" (404) refuses the entry: when the user has no working link, the tracker
does not answer or limits us, the entry is stored and the sync reports the problem later — booking time must
not depend on the tracker being up. The fetch goes through the tracker door (the ticket system's request budget,
typed errors) with the stored token as it is (no refresh): a refresh takes the link's lock in a transaction of its
own, which must not happen inside the request's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import ConnectorError, NotFound
from gateway.core.errors import InvalidInput
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Link, Project, TicketSystem
from gateway.core.plugins import ConnectorMissing
from gateway.core.secrets_at_rest import open_credentials
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.deferred import Deferred
from gateway.core.ticket_cache import cached_ticket, upsert_ticket
from gateway.core.tracker_door import TrackerDoor

log = structlog.get_logger(__name__)
# Booking waits this long at most for the budget's next second and for the tracker's answer.
BUDGET_WAIT_SECONDS = 2.0
TRACKER_WAIT_SECONDS = 8.0


class TicketChecker:
    """Checks tickets against their trackers; the API hands one to the entry service."""

    def __init__(self, runtime: ConnectorRuntime, coordinator: Coordinator) -> None:
        self.door = TrackerDoor(runtime, coordinator)
        self.runtime = runtime

    async def check(self, session: AsyncSession, user_id: int, project_id: int, ticket: str) -> None:
        """Raise `InvalidInput` when the project's tracker says `ticket` does not exist."""
        project = await session.get(Project, project_id)
        if project is None or project.ticket_system_id is None or not ticket:
            return
        system = await session.get(TicketSystem, project.ticket_system_id)
        if system is None or not system.enabled or system.deleted_at is not None:
            return
        if await cached_ticket(session, system.id, ticket) is not None:
            return
        link = await session.scalar(
            select(Link).where(
                Link.user_id == user_id,
                Link.ticket_system_id == system.id,
                Link.enabled.is_(True),
                Link.needs_reconnect.is_(False),
            )
        )
        credentials = open_credentials(link, self.runtime.key_ring) if link is not None else None
        now = datetime.now(UTC)
        if credentials is None or (credentials.expires_at is not None and credentials.expires_at <= now):
            return
        try:
            tracker = self.door.open(
                system,
                credentials=credentials,
                refresh=False,
                budget_wait=BUDGET_WAIT_SECONDS,
                timeout=TRACKER_WAIT_SECONDS,
            )
            data = await tracker.call(lambda c: tracker.connector.fetch_ticket(c, ticket), f"check ticket {ticket}")
        except NotFound:
            raise InvalidInput(f"{system.name} has no ticket {ticket}", field="ticket") from None
        except (ConnectorError, ConnectorMissing, Deferred) as exc:
            log.info("ticket not checked", ticket_system=system.name, ticket=ticket, reason=str(exc))
            return
        await upsert_ticket(session, system.id, data, now=now)
