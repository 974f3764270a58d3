"""Finding tickets for the booking form: the ticket cache first, the tracker once on a miss.

Anyone who may book on a project may search its tickets. The cache answers (key prefix or summary text); only
when it has nothing does the gateway ask the tracker once, with the caller's own link and within the ticket
system's request budget, and cache what comes back. Without a usable link, with the budget spent, or with the
tracker down or slow, the answer is what the cache has: a search never fails because of the tracker. The
project's ticket prefixes and sub-tickets narrow the answer to tickets that can be booked on it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import Capability, ConnectorError, Credentials, NotFound, TicketData
from gateway.core.auth.caller import Caller
from gateway.core.errors import GatewayError, InvalidInput
from gateway.core.links import ConnectorRuntime
from gateway.core.logs import get_logger
from gateway.core.master_data.projects import get_project
from gateway.core.models import Link, Project, Ticket, TicketSystem
from gateway.core.secrets_at_rest import open_credentials
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.deferred import Deferred
from gateway.core.ticket_cache import cached_ticket, search_cached, upsert_ticket
from gateway.core.tickets import (
    TICKET_KEY,
    check_ticket_for_project,
    expand_bare_key,
    normalise_ticket,
    prefix_pattern,
)
from gateway.core.tracker_door import TrackerDoor

log = get_logger("gateway.tickets")
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# An autocomplete cannot wait long: the budget's next second, and a tracker that answers within a few seconds.
BUDGET_WAIT_SECONDS = 2.0
TRACKER_WAIT_SECONDS = 8.0


class TicketSearch:
    """Searches a project's tickets; the API hands one to the handler."""

    def __init__(self, runtime: ConnectorRuntime, coordinator: Coordinator) -> None:
        self.runtime = runtime
        self.door = TrackerDoor(runtime, coordinator)

    async def search(
        self, session: AsyncSession, caller: Caller, project_id: int, text: str, limit: int = DEFAULT_LIMIT
    ) -> list[Ticket]:
        project = await get_project(session, caller, project_id)
        system = await session.get(TicketSystem, project.ticket_system_id) if project.ticket_system_id else None
        if system is None or not system.enabled or system.deleted_at is not None:
            return []
        within = _bookable_keys(project)
        text = expand_bare_key(text, project.ticket_prefixes)  # GitLab's #12 on a project mapped to its path
        found = await search_cached(session, system.id, text, limit=limit, within=within)
        if found or not text.strip():
            return found
        credentials = await _credentials(session, caller.user_id, system.id, self.runtime)
        # Nothing may hold a transaction (on SQLite: the write lock) while the tracker is asked.
        await session.commit()
        if credentials is None:
            return []
        found = []
        now = datetime.now(UTC)
        for data in await self._ask_tracker(system, credentials, text.strip(), limit):
            await upsert_ticket(session, system.id, data, now=now)  # every answer serves later checks and searches
            cached = await cached_ticket(session, system.id, data.key)
            if cached is not None and takes_ticket(project, data.key) and len(found) < limit:
                found.append(cached)
        return found

    async def _ask_tracker(
        self, system: TicketSystem, credentials: Credentials, text: str, limit: int
    ) -> list[TicketData]:
        try:
            tracker = self.door.open(
                system,
                credentials=credentials,
                refresh=False,
                budget_wait=BUDGET_WAIT_SECONDS,
                timeout=TRACKER_WAIT_SECONDS,
            )
            connector = tracker.connector
            if connector.supports(Capability.SEARCH):
                return await tracker.call(lambda _: connector.search_tickets(credentials, text, limit), "search")
            if not TICKET_KEY.match(normalise_ticket(text)):
                return []
            try:  # without a search, a whole key can still be looked up
                return [
                    await tracker.call(lambda c: connector.fetch_ticket(c, normalise_ticket(text)), "fetch a ticket")
                ]
            except NotFound:
                return []
        except (ConnectorError, GatewayError, Deferred) as exc:
            log.info(
                "ticket search answered from the cache",
                ticket_system=system.name,
                reason=str(exc) or type(exc).__name__,
            )
        except Exception as exc:  # a plugin's bug must not fail the booking form
            log.warning(
                "ticket search failed in the connector", ticket_system=system.name, error_type=type(exc).__name__
            )
        return []


def _bookable_keys(project: Project) -> ColumnElement[bool] | None:
    """The keys a project takes: its prefixes (ABC-…) and sub-tickets; None when it takes any key."""
    if not project.ticket_prefixes and not project.subtickets:
        return None
    conditions = [
        func.upper(Ticket.key).startswith(start, autoescape=True)
        for prefix in project.ticket_prefixes
        for start in prefix_pattern(prefix)
    ]
    if project.subtickets:
        conditions.append(func.upper(Ticket.key).in_(project.subtickets))
    return or_(*conditions)


def takes_ticket(project: Project, key: str) -> bool:
    try:
        check_ticket_for_project(
            normalise_ticket(key, project.ticket_prefixes), project.ticket_prefixes, project.subtickets
        )
    except InvalidInput:
        return False
    return True


async def _credentials(
    session: AsyncSession, user_id: int, system_id: int, runtime: ConnectorRuntime
) -> Credentials | None:
    """The caller's own link's credentials as stored (no refresh inside a request), if they are usable."""
    link = await session.scalar(
        select(Link).where(
            Link.user_id == user_id,
            Link.ticket_system_id == system_id,
            Link.enabled.is_(True),
            Link.needs_reconnect.is_(False),
        )
    )
    credentials = open_credentials(link, runtime.key_ring) if link is not None else None
    if credentials is None or (credentials.expires_at is not None and credentials.expires_at <= datetime.now(UTC)):
        return None
    return credentials
