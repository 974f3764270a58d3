"""The start page: "My week" — the week's entries per day, totals against the contract, and booking."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from gateway.api.dependencies import CurrentCaller, DbSession
from gateway.web.pages import fragment, render
from gateway.web.week_view import IsoWeek, booking_choices, week_view

TICKET_SEARCH = "/api/tickets"


def ticket_search(request: Request[Any, Any, Any]) -> str | None:
    """The ticket search the autocomplete asks, when this gateway has it (it comes with the connector SDK)."""
    return TICKET_SEARCH if TICKET_SEARCH in request.app.route_handler_method_map else None


class WeekController(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, caller: CurrentCaller) -> Redirect:
        return Redirect("/week", status_code=303)

    @get("/week")
    async def this_week(self, caller: CurrentCaller) -> Redirect:
        return Redirect(f"/week/{IsoWeek.of(date.today())}", status_code=303)

    @get("/week/{week:str}")
    async def week(
        self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession, week: FromPath[str]
    ) -> Template:
        shown = IsoWeek.parse(week)
        choices = await booking_choices(db_session, caller)
        view = await week_view(db_session, caller, shown, choices, date.today())
        return await render(
            request, db_session, caller, "week.html", view=view, choices=choices, ticket_search=ticket_search(request)
        )

    @get("/week/{week:str}/days")
    async def week_days(self, caller: CurrentCaller, db_session: DbSession, week: FromPath[str]) -> Template:
        """The days and totals alone, which the page fetches again after each change."""
        shown = IsoWeek.parse(week)
        choices = await booking_choices(db_session, caller)
        view = await week_view(db_session, caller, shown, choices, date.today())
        return fragment("week_days.html", view=view, choices=choices)
