"""One entry's page: its values, its sync state and its history. Outside the caller's view it is the 404 page,
exactly as `GET /api/entries/{id}` answers 404."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from gateway.api.dependencies import CurrentCaller, DbSession
from gateway.api.parameters import RowId
from gateway.core import entries
from gateway.core.errors import NotFound
from gateway.core.revisions import list_revisions
from gateway.core.ticket_cache import cached_tickets
from gateway.core.users import get_user
from gateway.web.pages import render
from gateway.web.week_view import EntryRow, IsoWeek, booking_choices


class EntryPageController(Controller):
    include_in_schema = False

    @get("/entries/{entry_id:int}")
    async def entry_page(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        entry_id: RowId,
    ) -> Template:
        entry = await entries.get_entry(db_session, caller, entry_id)
        choices = await booking_choices(db_session, caller)
        project = choices.project(entry.project_id)
        system_id = project.ticket_system_id if project else None
        tickets = await cached_tickets(db_session, {(system_id, entry.ticket)} if system_id and entry.ticket else set())
        row = EntryRow(
            entry=entry,
            project=project.name if project else f"project {entry.project_id}",
            customer=choices.customers.get(entry.customer_id, f"customer {entry.customer_id}"),
            activity=choices.activity_name(entry.activity_id),
            account=choices.account_name(entry.account_id),
            ticket=tickets.get((system_id, entry.ticket)) if system_id else None,
        )
        revisions = await list_revisions(db_session, entry.id)
        names: dict[int, str] = {}
        for user_id in {entry.user_id, *(r.author_id for r in revisions if r.author_id is not None)}:
            try:
                names[user_id] = (await get_user(db_session, user_id)).display_name
            except NotFound:
                names[user_id] = f"user {user_id}"
        return await render(
            request,
            db_session,
            caller,
            "entry.html",
            row=row,
            revisions=revisions,
            names=names,
            week=IsoWeek.of(entry.day),
            own=entry.user_id == caller.user_id,
        )
