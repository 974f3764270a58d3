"""The ticket cache: what trackers told us about their tickets, kept fresh by webhooks, the changed-tickets feed
and lookups. It answers the booking check (does this ticket exist?) and the autocomplete (which tickets match?)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import TicketData
from gateway.core.models import Ticket


async def upsert_ticket(session: AsyncSession, system_id: int, data: TicketData, *, now: datetime) -> None:
    """Store what the tracker says about a ticket; two requests caching the same new ticket do not clash."""
    for _attempt in range(2):
        ticket = await cached_ticket(session, system_id, data.key)
        if ticket is None:
            try:
                async with session.begin_nested():
                    session.add(_filled(Ticket(ticket_system_id=system_id, key=data.key), data, now))
                return
            except IntegrityError:
                continue  # another transaction cached it first: update that row
        if not (ticket.remote_updated_at and data.updated_at and data.updated_at < ticket.remote_updated_at):
            _filled(ticket, data, now)  # an older state arriving late must not overwrite a newer one
            await session.flush()
        return


async def upsert_tickets(session: AsyncSession, system_id: int, tickets: Iterable[TicketData], *, now: datetime) -> int:
    count = 0
    for data in tickets:
        await upsert_ticket(session, system_id, data, now=now)
        count += 1
    return count


def _filled(ticket: Ticket, data: TicketData, now: datetime) -> Ticket:
    ticket.summary = data.summary
    ticket.status = data.status
    ticket.assignee = data.assignee
    ticket.remote_updated_at = data.updated_at
    ticket.raw = data.raw
    ticket.fetched_at = now
    return ticket


async def drop_ticket(session: AsyncSession, system_id: int, key: str) -> None:
    await session.execute(delete(Ticket).where(Ticket.ticket_system_id == system_id, Ticket.key == key))


async def cached_ticket(session: AsyncSession, system_id: int, key: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.ticket_system_id == system_id, Ticket.key == key))


async def search_cached(
    session: AsyncSession, system_id: int, text: str, *, limit: int, within: ColumnElement[bool] | None = None
) -> list[Ticket]:
    """Cached tickets of a system whose key starts with `text` or whose summary contains it (any case): key
    matches first, then the most recently changed. Without text, the most recently changed. `within` narrows
    the keys (a project's prefixes)."""
    stmt = select(Ticket).where(Ticket.ticket_system_id == system_id)
    if within is not None:
        stmt = stmt.where(within)
    order: list[Any] = []
    text = text.strip()
    if text:
        key_prefix = f"#{text}" if text.isdigit() else text.upper()
        by_key = func.upper(Ticket.key).startswith(key_prefix, autoescape=True)
        by_summary = func.lower(Ticket.summary).contains(text.lower(), autoescape=True)
        stmt = stmt.where(or_(by_key, by_summary))
        order.append(case((by_key, 0), else_=1))
    order += [Ticket.remote_updated_at.desc().nulls_last(), Ticket.key]
    return list((await session.scalars(stmt.order_by(*order).limit(limit))).all())


async def cached_tickets(session: AsyncSession, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], Ticket]:
    """The cached tickets among (ticket system id, key) pairs, in one query."""
    if not wanted:
        return {}
    keys = {key for _system, key in wanted}
    systems = {system for system, _key in wanted}
    rows = await session.scalars(select(Ticket).where(Ticket.ticket_system_id.in_(systems), Ticket.key.in_(keys)))
    return {(t.ticket_system_id, t.key): t for t in rows if (t.ticket_system_id, t.key) in wanted}
