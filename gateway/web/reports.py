"""Reports: the time report (filters, grouping, a chart, CSV and XLSX of exactly the table), project progress
against the estimate and a user's month timesheet. The page lists the choices the caller may see; its script
asks the JSON API (`/api/reports/...`), which decides what each role sees, and draws the chart itself."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from gateway.api.dependencies import CurrentCaller, DbSession
from gateway.core.master_data.teams import list_teams
from gateway.core.master_data.users import list_users
from gateway.core.reports.time_report import Dimension
from gateway.web.pages import render
from gateway.web.week_view import _all, booking_choices

DIMENSION_LABELS = {
    Dimension.USER: "User",
    Dimension.TEAM: "Team",
    Dimension.CUSTOMER: "Customer",
    Dimension.PROJECT: "Project",
    Dimension.ACTIVITY: "Activity",
    Dimension.ACCOUNT: "Account",
    Dimension.TICKET: "Ticket",
    Dimension.DAY: "Day",
    Dimension.WEEK: "Week",
    Dimension.MONTH: "Month",
}


class ReportsController(Controller):
    include_in_schema = False

    @get("/reports")
    async def reports(self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession) -> Template:
        choices = await booking_choices(db_session, caller)
        users = await _all(lambda page: list_users(db_session, caller, page))
        teams = await _all(lambda page: list_teams(db_session, caller, page))
        today = date.today()
        first = today.replace(day=1)
        return await render(
            request,
            db_session,
            caller,
            "reports.html",
            choices=choices,
            users=users,
            teams=teams,
            dimensions=DIMENSION_LABELS,
            first_day=first,
            last_day=today,
            month=f"{today:%Y-%m}",
        )
