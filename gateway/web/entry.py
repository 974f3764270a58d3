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
from gateway.web.templating import hours_minutes
from gateway.web.week_view import Choices, EntryRow, IsoWeek, booking_choices

# The fields a revision records, in the order and with the names the history shows.
FIELD_LABELS = {
    "day": "Day",
    "start": "Start",
    "end": "End",
    "duration": "Duration",
    "project_id": "Project",
    "customer_id": "Customer",
    "activity_id": "Activity",
    "account_id": "Account",
    "ticket": "Ticket",
    "description": "Description",
    "user_id": "User",
}


def readable_changes(
    changes: dict[str, list[Any]], choices: Choices, names: dict[int, str]
) -> list[tuple[str, str, str]]:
    """A revision's changes as (field, before, after) in words: names instead of ids, durations as h:mm."""

    def shown(name: str, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if name == "duration":
            return hours_minutes(int(value))
        if name == "project_id":
            project = choices.project(int(value))
            return project.name if project else f"project {value}"
        if name == "customer_id":
            return choices.customers.get(int(value), f"customer {value}")
        if name == "activity_id":
            return choices.activity_name(int(value))
        if name == "account_id":
            return choices.account_name(int(value)) or "—"
        if name == "user_id":
            return names.get(int(value), f"user {value}")
        return str(value)

    return [
        (label, shown(name, changes[name][0]), shown(name, changes[name][1]))
        for name, label in FIELD_LABELS.items()
        if name in changes
    ]


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
        user_ids = {entry.user_id, *(r.author_id for r in revisions if r.author_id is not None)}
        user_ids |= {int(v) for r in revisions for v in r.changes.get("user_id", []) if v is not None}
        for user_id in user_ids:
            try:
                names[user_id] = (await get_user(db_session, user_id)).display_name
            except NotFound:
                names[user_id] = f"user {user_id}"
        history = [(revision, readable_changes(revision.changes, choices, names)) for revision in reversed(revisions)]
        return await render(
            request,
            db_session,
            caller,
            "entry.html",
            row=row,
            history=history,
            names=names,
            week=IsoWeek.of(entry.day),
            own=entry.user_id == caller.user_id,
        )
