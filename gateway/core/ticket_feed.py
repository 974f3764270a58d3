"""Keeping the ticket cache fresh without webhooks: for connectors that can list changed tickets.

Every few minutes each ticket system whose connector declares CHANGED_TICKETS is asked for the tickets changed
since the last read (a little before it: trackers round update times to the second, and clocks differ), with the
credentials of one of its connected links, or the app's own when it has no link. What comes back is cached; the
time of the read is stored only after it completed, so a failed read is repeated from the same point.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from gateway.connectors import AuthExpired, AuthRevoked, Capability, Rejected
from gateway.core.errors import GatewayError
from gateway.core.logs import get_logger
from gateway.core.models import Link, TicketSystem
from gateway.core.sync.engine import SyncDeps
from gateway.core.ticket_cache import upsert_tickets

log = get_logger("gateway.tickets")
# How often a system is read, how far back its first read goes, and how much each read overlaps the last.
READ_EVERY = timedelta(minutes=5)
FIRST_READ = timedelta(days=30)
OVERLAP = timedelta(minutes=2)


async def systems_due(deps: SyncDeps) -> list[int]:
    """Ticket systems whose connector lists changed tickets and whose last read is older than `READ_EVERY`."""
    now = deps.clock()
    async with deps.session_factory() as session:
        systems = (
            await session.scalars(
                select(TicketSystem)
                .where(
                    TicketSystem.enabled.is_(True),
                    TicketSystem.deleted_at.is_(None),
                    (TicketSystem.tickets_read_at.is_(None)) | (TicketSystem.tickets_read_at < now - READ_EVERY),
                )
                .order_by(TicketSystem.id)
            )
        ).all()
    due = []
    for system in systems:
        info = deps.runtime.registry.get(system.type)
        if info is not None and Capability.CHANGED_TICKETS in info.connector.capabilities:
            due.append(system.id)
    return due


async def read_changed_tickets(deps: SyncDeps, system_id: int) -> int:
    """Cache the tickets changed since the system's last read; how many. `Deferred` when the tracker asks to wait."""
    started = deps.clock()
    async with deps.session_factory() as session:
        system = await session.get(TicketSystem, system_id)
        if system is None or not system.enabled or system.deleted_at is not None:
            return 0
        try:
            tracker = deps.door.open(system)
        except GatewayError as exc:
            log.warning("ticket feed skipped", ticket_system=system.name, reason=str(exc))
            return 0
        connector = tracker.connector
        if not connector.supports(Capability.CHANGED_TICKETS):
            return 0
        since = system.tickets_read_at - OVERLAP if system.tickets_read_at else started - FIRST_READ
        link_ids = (
            await session.scalars(
                select(Link.id)
                .where(
                    Link.ticket_system_id == system_id,
                    Link.enabled.is_(True),
                    Link.needs_reconnect.is_(False),
                    Link.access_token.is_not(None),
                )
                .order_by(Link.last_sync_at.desc().nulls_last(), Link.id)
            )
        ).all()
        await session.commit()  # no transaction stays open while the tracker is asked

        for link_id in link_ids[:3]:
            tracker = deps.door.open(system, link_id=link_id)
            try:
                await tracker.start()
                break
            except (AuthRevoked, Rejected):
                tracker = deps.door.open(system)  # that link needs its user; another may do
        try:
            tickets = await tracker.call(
                lambda credentials: connector.changed_tickets(credentials, since), f"changed tickets of {system.name}"
            )
        except (AuthExpired, AuthRevoked, Rejected) as exc:
            log.warning("ticket feed refused", ticket_system=system.name, reason=str(exc))
            return 0
        count = await upsert_tickets(session, system_id, tickets, now=deps.clock())
        system.tickets_read_at = started
        await session.commit()
    if count:
        log.info("ticket cache refreshed", ticket_system=system.name, tickets=count)
    return count
