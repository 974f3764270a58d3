"""Reports: time by any dimension, project progress, a user's timesheet, sync status; CSV and XLSX exports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, ReportSession
from gateway.api.openapi import problems
from gateway.api.parameters import IdFilter, RowId
from gateway.core.auth.caller import Caller
from gateway.core.enums import SyncState
from gateway.core.master_data.types import MAX_INT, MONTH
from gateway.core.replica import ReadRouter
from gateway.core.reports.export import Table, csv_stream, time_report_table, timesheet_table, xlsx_stream
from gateway.core.reports.progress import project_progress
from gateway.core.reports.sync_report import sync_status_report
from gateway.core.reports.time_report import (
    Dimension,
    ReportRow,
    Sums,
    TimeFilter,
    parse_group_by,
    stream_time_report,
    time_report,
    time_totals,
)
from gateway.core.reports.timesheet import Timesheet, timesheet

TimeFilterQuery = NamedDependency[TimeFilter]  # as `filters`: the day range and filters from the query
Month = Annotated[str, QueryParameter(description="The month, e.g. 2026-11", pattern=MONTH)]
GroupBy = Annotated[
    str | None,
    QueryParameter(
        description="Comma-separated, in order: " + ", ".join(d.value for d in Dimension) + " (none: totals only)"
    ),
]
# Litestar adds "; charset=utf-8" to text types itself.
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SumsOut(msgspec.Struct, kw_only=True):
    minutes: int
    entries: int
    # Exact to a hundredth of a minute: the activity's factor applies to billable time.
    billable_minutes: float
    non_billable_minutes: float


class TimeRowOut(SumsOut, kw_only=True):
    # One key per grouped dimension: {"id", "name"} for user, team, customer, project, activity, account
    # (null: none, e.g. an entry without account), text for ticket, week (2026-W48), month (2026-11), day (a date).
    keys: dict[str, Any]


class TimeReportOut(msgspec.Struct, kw_only=True):
    group_by: list[str]
    filter: dict[str, Any]
    rows: list[TimeRowOut]
    totals: SumsOut


class ActivityMinutesOut(msgspec.Struct, kw_only=True):
    activity_id: int
    activity: str
    minutes: int


class MonthMinutesOut(msgspec.Struct, kw_only=True):
    month: str
    minutes: int


class ProgressCellOut(ActivityMinutesOut, kw_only=True):
    month: str


class ProgressOut(msgspec.Struct, kw_only=True):
    project_id: int
    project: str
    estimation_minutes: int | None
    offer: str | None
    booked_minutes: int
    remaining_minutes: int | None
    # booked / estimation (1.0 = all used; above 1: over the estimation); null without an estimation.
    share_used: float | None
    by_activity: list[ActivityMinutesOut]
    by_month: list[MonthMinutesOut]
    cells: list[ProgressCellOut]


class TimesheetDayOut(msgspec.Struct, kw_only=True):
    day: date
    holiday: str | None
    target_minutes: int
    booked_minutes: int
    balance_minutes: int
    running_balance_minutes: int


class TimesheetOut(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    month: str
    target_minutes: int
    booked_minutes: int
    balance_minutes: int
    balance_before_minutes: int
    balance_after_minutes: int
    days: list[TimesheetDayOut]


class SyncReportRowOut(msgspec.Struct, kw_only=True):
    user_id: int
    username: str
    ticket_system_id: int
    ticket_system: str
    pending: int
    synced: int
    failed: int
    conflict: int
    remote_deleted: int
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: float | None


def sums_out(sums: Sums) -> dict[str, Any]:
    return {
        "minutes": sums.minutes,
        "entries": sums.entries,
        "billable_minutes": float(sums.billable_minutes),
        "non_billable_minutes": float(sums.non_billable_minutes),
    }


def time_row_out(row: ReportRow) -> TimeRowOut:
    return TimeRowOut(keys=row.keys, **sums_out(row.sums))


def timesheet_out(sheet: Timesheet) -> TimesheetOut:
    return TimesheetOut(
        user_id=sheet.user.id,
        username=sheet.user.username,
        month=sheet.month,
        target_minutes=sheet.target_minutes,
        booked_minutes=sheet.booked_minutes,
        balance_minutes=sheet.balance,
        balance_before_minutes=sheet.balance_before,
        balance_after_minutes=sheet.balance_after,
        days=[
            TimesheetDayOut(
                day=day.day,
                holiday=day.holiday,
                target_minutes=day.target_minutes,
                booked_minutes=day.booked_minutes,
                balance_minutes=day.balance,
                running_balance_minutes=day.running_balance,
            )
            for day in sheet.days
        ],
    )


def provide_time_filter(
    first_day: Annotated[date, QueryParameter(description="First day, inclusive")],
    last_day: Annotated[date, QueryParameter(description="Last day, inclusive")],
    user_id: IdFilter = None,
    team_id: Annotated[
        int | None, QueryParameter(ge=1, le=MAX_INT, description="Entries of the team's members")
    ] = None,
    customer_id: IdFilter = None,
    project_id: IdFilter = None,
    activity_id: IdFilter = None,
    account_id: IdFilter = None,
    ticket: FromQuery[str | None] = None,
) -> TimeFilter:
    return TimeFilter(
        first_day=first_day,
        last_day=last_day,
        user_id=user_id,
        team_id=team_id,
        customer_id=customer_id,
        project_id=project_id,
        activity_id=activity_id,
        account_id=account_id,
        ticket=ticket,
    )


async def download(chunks: AsyncIterator[bytes], media_type: str, filename: str) -> Stream:
    """A streamed file; its first chunk is made before the answer starts, so an error then is still a problem."""
    first = await anext(chunks, b"")

    async def content() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    return Stream(
        content=content(),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


async def time_export(
    state: State,
    caller: Caller,
    group_by: list[Dimension],
    filters: TimeFilterQuery,
    write: Callable[[Table], AsyncIterator[bytes]],
) -> AsyncIterator[bytes]:
    """The time report written while its rows stream from the database.

    The response outlives the request's session, so the export reads in its own read-only transaction (on the
    read replica when there is one and it may serve the caller).
    """
    reads: ReadRouter = state.reads
    async with reads.session(caller.user_id) as session:
        rows = stream_time_report(session, caller, group_by, filters)
        table = time_report_table(group_by, filters, rows, lambda: time_totals(session, caller, filters))
        async for chunk in write(table):
            yield chunk


class ReportController(Controller):
    path = "/api/reports"
    tags = ["reports"]
    opt = READ_ONLY_GETS
    dependencies = {"filters": Provide(provide_time_filter, sync_to_thread=False)}

    @get(
        "/time",
        summary="Minutes, entries and the billable split, grouped by any dimensions in order",
        responses=problems(422),
    )
    async def time(
        self, caller: CurrentCaller, report_session: ReportSession, filters: TimeFilterQuery, group_by: GroupBy = None
    ) -> TimeReportOut:
        dimensions = parse_group_by(group_by)
        report = await time_report(report_session, caller, dimensions, filters)
        return TimeReportOut(
            group_by=[d.value for d in dimensions],
            filter=dict(filters.items()),
            rows=[time_row_out(row) for row in report.rows],
            totals=SumsOut(**sums_out(report.totals)),
        )

    @get("/time.csv", summary="The time report as CSV (streamed)", media_type=CSV, responses=problems(422))
    async def time_csv(
        self, caller: CurrentCaller, state: State, filters: TimeFilterQuery, group_by: GroupBy = None
    ) -> Stream:
        dimensions = parse_group_by(group_by)
        chunks = time_export(state, caller, dimensions, filters, csv_stream)
        return await download(chunks, CSV, f"time-report_{filters.describe()}.csv")

    @get(
        "/time.xlsx", summary="The time report as an XLSX workbook (streamed)", media_type=XLSX, responses=problems(422)
    )
    async def time_xlsx(
        self, caller: CurrentCaller, state: State, filters: TimeFilterQuery, group_by: GroupBy = None
    ) -> Stream:
        dimensions = parse_group_by(group_by)
        chunks = time_export(state, caller, dimensions, filters, xlsx_stream)
        return await download(chunks, XLSX, f"time-report_{filters.describe()}.xlsx")

    @get("/projects/{project_id:int}/progress", summary="Booked time against the estimation, by activity and month")
    async def progress(self, caller: CurrentCaller, report_session: ReportSession, project_id: RowId) -> ProgressOut:
        found = await project_progress(report_session, caller, project_id)
        estimation = found.project.estimation_minutes
        return ProgressOut(
            project_id=found.project.id,
            project=found.project.name,
            estimation_minutes=estimation,
            offer=found.project.offer,
            booked_minutes=found.booked_minutes,
            remaining_minutes=None if estimation is None else estimation - found.booked_minutes,
            share_used=None if found.share_used is None else float(found.share_used),
            by_activity=[
                ActivityMinutesOut(activity_id=ident, activity=name, minutes=minutes)
                for ident, name, minutes in found.by_activity()
            ],
            by_month=[MonthMinutesOut(month=month, minutes=minutes) for month, minutes in found.by_month().items()],
            cells=[
                ProgressCellOut(activity_id=c.activity_id, activity=c.activity, month=c.month, minutes=c.minutes)
                for c in found.cells
            ],
        )

    @get(
        "/users/{user_id:int}/timesheet",
        summary="Per day: booked time against the contract, and the balance",
        responses=problems(422),
    )
    async def timesheet(
        self, caller: CurrentCaller, report_session: ReportSession, user_id: RowId, month: Month
    ) -> TimesheetOut:
        return timesheet_out(await timesheet(report_session, caller, user_id, month))

    @get("/users/{user_id:int}/timesheet.csv", summary="The timesheet as CSV", media_type=CSV, responses=problems(422))
    async def timesheet_csv(
        self, caller: CurrentCaller, report_session: ReportSession, user_id: RowId, month: Month
    ) -> Stream:
        sheet = await timesheet(report_session, caller, user_id, month)
        return await download(csv_stream(timesheet_table(sheet)), CSV, f"timesheet_{sheet.user.username}_{month}.csv")

    @get(
        "/users/{user_id:int}/timesheet.xlsx",
        summary="The timesheet as an XLSX workbook",
        media_type=XLSX,
        responses=problems(422),
    )
    async def timesheet_xlsx(
        self, caller: CurrentCaller, report_session: ReportSession, user_id: RowId, month: Month
    ) -> Stream:
        sheet = await timesheet(report_session, caller, user_id, month)
        return await download(
            xlsx_stream(timesheet_table(sheet)), XLSX, f"timesheet_{sheet.user.username}_{month}.xlsx"
        )

    @get("/sync", summary="Per user and ticket system: entries pending, synced, failed, in conflict; oldest pending")
    async def sync(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        user_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_INT, description="Only this user")] = None,
    ) -> list[SyncReportRowOut]:
        now = datetime.now(UTC)
        return [
            SyncReportRowOut(
                user_id=row.user_id,
                username=row.username,
                ticket_system_id=row.ticket_system_id,
                ticket_system=row.ticket_system,
                pending=row.counts.get(SyncState.PENDING, 0),
                synced=row.counts.get(SyncState.SYNCED, 0),
                failed=row.counts.get(SyncState.FAILED, 0),
                conflict=row.counts.get(SyncState.CONFLICT, 0),
                remote_deleted=row.counts.get(SyncState.REMOTE_DELETED, 0),
                oldest_pending_at=row.oldest_pending_at,
                oldest_pending_age_seconds=row.age_seconds(now),
            )
            for row in await sync_status_report(db_session, caller, user_id)
        ]
