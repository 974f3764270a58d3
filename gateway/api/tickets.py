"""Ticket search for the booking form's autocomplete."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter

from gateway.api.dependencies import CurrentCaller, DbSession, TicketFinder
from gateway.api.openapi import problems
from gateway.core.master_data.types import MAX_INT
from gateway.core.ticket_search import DEFAULT_LIMIT, MAX_LIMIT


class TicketOut(msgspec.Struct, kw_only=True):
    key: str
    summary: str
    status: str | None
    assignee: str | None
    ticket_system_id: int


class TicketController(Controller):
    path = "/api/tickets"
    tags = ["tickets"]

    @get(
        "",
        summary="Tickets to book on a project: key prefix or summary text, from the ticket cache, else the tracker",
        description=(
            "Visible to anyone who may book on the project (404 otherwise). The ticket cache answers first; on a "
            "miss the tracker is asked once with the caller's own link, within the ticket system's request budget, "
            "and its answer is cached. Without a usable link, or with the tracker down, the answer is what the "
            "cache holds. Only tickets the project takes (its prefixes and sub-tickets) are listed."
        ),
        responses=problems(404),
    )
    async def search(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        ticket_search: TicketFinder,
        project_id: Annotated[int, QueryParameter(ge=1, le=MAX_INT, description="The project being booked on")],
        q: Annotated[str, QueryParameter(max_length=200, description="Key prefix or summary text")] = "",
        limit: Annotated[
            int, QueryParameter(ge=1, le=MAX_LIMIT, description="At most this many tickets")
        ] = DEFAULT_LIMIT,
    ) -> list[TicketOut]:
        found = await ticket_search.search(db_session, caller, project_id, q, limit)
        return [
            TicketOut(
                key=ticket.key,
                summary=ticket.summary,
                status=ticket.status,
                assignee=ticket.assignee,
                ticket_system_id=ticket.ticket_system_id,
            )
            for ticket in found
        ]
