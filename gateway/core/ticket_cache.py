"""The ticket cache: what trackers told us about their tickets, kept fresh by webhooks and polling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.connectors import TicketData
from gateway.core.models import Ticket


async def upsert_ticket(session: AsyncSession, system_id: int, data: TicketData, *, now: datetime) -> Ticket:
    ticket = await session.scalar(select(Ticket).where(Ticket.ticket_system_id == system_id, Ticket.key == data.key))
    if ticket is None:
        ticket = Ticket(ticket_system_id=system_id, key=data.key)
        session.add(ticket)
    elif ticket.remote_updated_at and data.updated_at and data.updated_at < ticket.remote_updated_at:
        return ticket  # an older state arriving late must not overwrite a newer one
    ticket.summary = data.summary
    ticket.status = data.status
    ticket.assignee = data.assignee
    ticket.remote_updated_at = data.updated_at
    ticket.raw = data.raw
    ticket.fetched_at = now
    await session.flush()
    return ticket


async def drop_ticket(session: AsyncSession, system_id: int, key: str) -> None:
    await session.execute(delete(Ticket).where(Ticket.ticket_system_id == system_id, Ticket.key == key))


async def cached_ticket(session: AsyncSession, system_id: int, key: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.ticket_system_id == system_id, Ticket.key == key))


async def cached_tickets(session: AsyncSession, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], Ticket]:
    """The cached tickets among (ticket system id, key) pairs, in one query."""
    if not wanted:
        return {}
    keys = {key for _system, key in wanted}
    systems = {system for system, _key in wanted}
    rows = await session.scalars(select(Ticket).where(Ticket.ticket_system_id.in_(systems), Ticket.key.in_(keys)))
    return {(t.ticket_system_id, t.key): t for t in rows if (t.ticket_system_id, t.key) in wanted}
