"""The time report: minutes, entries and the billable share, grouped by any ordered list of dimensions.

Billable time: an entry on a project billed by time (`TIME_AND_MATERIAL` or `MIXED`) is billable at its
activity's factor (factor 1.00: all of it; 0.50: half); entries on `FIXED_PRICE` and `NONE` projects are not
billable. Billable minutes are exact to a hundredth: the sum is taken in whole hundredths in the database.

Grouping by `team` counts an entry once for every (not deleted) team its user is a member of (and under no team
when the user has none), so the team rows may add up to more than the total; the totals count each entry once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from gateway.core.auth.caller import Caller
from gateway.core.enums import BillingType
from gateway.core.errors import InvalidInput
from gateway.core.models import Account, Activity, Customer, Entry, Project, Team, User, teams_users
from gateway.core.reports.sql import iso_week, year_month
from gateway.core.tickets import normalise_ticket
from gateway.core.visibility import visible_entries

MAX_DAYS = 3 * 366


class Dimension(StrEnum):
    USER = "user"
    TEAM = "team"
    CUSTOMER = "customer"
    PROJECT = "project"
    ACTIVITY = "activity"
    ACCOUNT = "account"
    TICKET = "ticket"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# Dimensions that name a row of another table: the report shows its id and name.
NAMED_DIMENSIONS: dict[Dimension, tuple[Any, Any]] = {
    Dimension.USER: (User.id, User.username),
    Dimension.TEAM: (Team.id, Team.name),
    Dimension.CUSTOMER: (Customer.id, Customer.name),
    Dimension.PROJECT: (Project.id, Project.name),
    Dimension.ACTIVITY: (Activity.id, Activity.name),
    Dimension.ACCOUNT: (Account.id, Account.name),
}
BILLED_BY_TIME = (BillingType.TIME_AND_MATERIAL, BillingType.MIXED)
_ID_FILTERS = ("user_id", "team_id", "customer_id", "project_id", "activity_id", "account_id")


@dataclass(frozen=True, slots=True)
class TimeFilter:
    first_day: date
    last_day: date
    user_id: int | None = None
    team_id: int | None = None
    customer_id: int | None = None
    project_id: int | None = None
    activity_id: int | None = None
    account_id: int | None = None
    ticket: str | None = None

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise InvalidInput("last_day lies before first_day", field="last_day")
        if (self.last_day - self.first_day).days >= MAX_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_DAYS} days", field="last_day")

    def items(self) -> list[tuple[str, Any]]:
        """The filter's set fields as (name, value), the day range first."""
        return [
            (name, value)
            for name in ("first_day", "last_day", *_ID_FILTERS, "ticket")
            if (value := getattr(self, name)) is not None
        ]

    def describe(self) -> str:
        """The filter as a file-name fragment: 2026-11-01_2026-11-30_user-3."""
        parts = [self.first_day.isoformat(), self.last_day.isoformat()]
        for name, value in self.items()[2:]:
            parts.append(re.sub(r"[^A-Za-z0-9-]+", "-", f"{name.removesuffix('_id')}-{value}").strip("-"))
        return "_".join(parts)


@dataclass(frozen=True, slots=True)
class Sums:
    minutes: int
    entries: int
    # Billable minutes in hundredths of a minute (exact); see the module docstring.
    billable_hundredths: int

    @property
    def billable_minutes(self) -> Decimal:
        return Decimal(self.billable_hundredths) / 100

    @property
    def non_billable_minutes(self) -> Decimal:
        return self.minutes - self.billable_minutes


@dataclass(frozen=True, slots=True)
class ReportRow:
    # One value per dimension, in the order asked: {"id", "name"} for named ones, text for the others.
    keys: dict[str, Any]
    sums: Sums


@dataclass
class TimeReport:
    group_by: list[Dimension]
    rows: list[ReportRow] = field(default_factory=list)
    totals: Sums = field(default_factory=lambda: Sums(0, 0, 0))


def parse_group_by(text: str | None) -> list[Dimension]:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    try:
        dimensions = [Dimension(name) for name in names]
    except ValueError:
        allowed = ", ".join(d.value for d in Dimension)
        raise InvalidInput(f"group_by takes a comma-separated list of: {allowed}", field="group_by") from None
    if len(set(dimensions)) != len(dimensions):
        raise InvalidInput("group_by names a dimension twice", field="group_by")
    return dimensions


def billable_hundredths() -> ColumnElement[int]:
    """Per entry: duration times factor in hundredths of a minute when its project bills by time, else 0."""
    factor_hundredths = cast(func.round(Activity.factor * 100), Integer)
    return case((Project.billing.in_(BILLED_BY_TIME), Entry.duration * factor_hundredths), else_=0)


def _filtered(stmt: Select[Any], caller: Caller, filters: TimeFilter) -> Select[Any]:
    stmt = visible_entries(stmt, caller).where(
        Entry.deleted_at.is_(None), Entry.day >= filters.first_day, Entry.day <= filters.last_day
    )
    for column, value in (
        (Entry.user_id, filters.user_id),
        (Entry.customer_id, filters.customer_id),
        (Entry.project_id, filters.project_id),
        (Entry.activity_id, filters.activity_id),
        (Entry.account_id, filters.account_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.ticket:
        stmt = stmt.where(Entry.ticket == normalise_ticket(filters.ticket))
    if filters.team_id is not None:
        member = exists().where(teams_users.c.user_id == Entry.user_id, teams_users.c.team_id == filters.team_id)
        stmt = stmt.where(member)
    return stmt


def _grouped_statement(group_by: Sequence[Dimension], caller: Caller, filters: TimeFilter) -> Select[Any]:
    columns: list[Any] = []
    for dimension in group_by:
        if dimension in NAMED_DIMENSIONS:
            columns += [
                column.label(f"{dimension.value}_{part}")
                for column, part in zip(NAMED_DIMENSIONS[dimension], ("id", "name"), strict=True)
            ]
        elif dimension is Dimension.TICKET:
            columns.append(Entry.ticket.label("ticket"))
        elif dimension is Dimension.DAY:
            columns.append(Entry.day.label("day"))
        elif dimension is Dimension.WEEK:
            columns.append(iso_week(Entry.day).label("week"))
        else:
            columns.append(year_month(Entry.day).label("month"))
    sums = [
        func.coalesce(func.sum(Entry.duration), 0).label("minutes"),
        func.count(Entry.id).label("entries"),
        func.coalesce(func.sum(billable_hundredths()), 0).label("billable"),
    ]
    stmt = (
        select(*columns, *sums)
        .select_from(Entry)
        .join(Project, Project.id == Entry.project_id)
        .join(Activity, Activity.id == Entry.activity_id)
    )
    if Dimension.USER in group_by:
        stmt = stmt.join(User, User.id == Entry.user_id)
    if Dimension.CUSTOMER in group_by:
        stmt = stmt.join(Customer, Customer.id == Entry.customer_id)
    if Dimension.ACCOUNT in group_by:
        stmt = stmt.outerjoin(Account, Account.id == Entry.account_id)
    if Dimension.TEAM in group_by:
        live_teams = select(Team.id).where(Team.deleted_at.is_(None))
        stmt = stmt.outerjoin(
            teams_users, and_(teams_users.c.user_id == Entry.user_id, teams_users.c.team_id.in_(live_teams))
        ).outerjoin(Team, Team.id == teams_users.c.team_id)
    stmt = _filtered(stmt, caller, filters)
    if columns:
        stmt = stmt.group_by(*columns).order_by(*columns)
    return stmt


def _row(group_by: Sequence[Dimension], row: Any) -> ReportRow:
    mapping = row._mapping
    keys: dict[str, Any] = {}
    for dimension in group_by:
        if dimension in NAMED_DIMENSIONS:
            ident = mapping[f"{dimension.value}_id"]
            keys[dimension.value] = None if ident is None else {"id": ident, "name": mapping[f"{dimension.value}_name"]}
        else:
            keys[dimension.value] = mapping[dimension.value]
    return ReportRow(keys=keys, sums=Sums(int(mapping["minutes"]), int(mapping["entries"]), int(mapping["billable"])))


async def time_report(
    session: AsyncSession, caller: Caller, group_by: Sequence[Dimension], filters: TimeFilter
) -> TimeReport:
    """One pass over the entries: the totals are the sums of the groups (every entry is in exactly one group),
    except by team, where an entry counts once per team and the totals need their own query."""
    if not group_by or Dimension.TEAM in group_by:
        # Without dimensions there is nothing to group: the totals are the report.
        rows = (await session.execute(_grouped_statement(group_by, caller, filters))).all() if group_by else []
        return TimeReport(
            group_by=list(group_by),
            rows=[_row(group_by, row) for row in rows],
            totals=await time_totals(session, caller, filters),
        )
    report = TimeReport(
        group_by=list(group_by),
        rows=[_row(group_by, row) for row in (await session.execute(_grouped_statement(group_by, caller, filters)))],
    )
    report.totals = Sums(
        minutes=sum(row.sums.minutes for row in report.rows),
        entries=sum(row.sums.entries for row in report.rows),
        billable_hundredths=sum(row.sums.billable_hundredths for row in report.rows),
    )
    return report


async def time_totals(session: AsyncSession, caller: Caller, filters: TimeFilter) -> Sums:
    """The report's totals: every matching entry counted once."""
    return _row([], (await session.execute(_grouped_statement([], caller, filters))).one()).sums


async def stream_time_report(
    session: AsyncSession, caller: Caller, group_by: Sequence[Dimension], filters: TimeFilter
) -> AsyncIterator[ReportRow]:
    """The report's rows one by one from a database cursor, for exports that do not fit in memory."""
    result = await session.stream(_grouped_statement(group_by, caller, filters).execution_options(yield_per=500))
    async for row in result:
        yield _row(group_by, row)


def time_report_statement(group_by: Sequence[Dimension], caller: Caller, filters: TimeFilter) -> Select[Any]:
    """The report's query, as run (for EXPLAIN in tests and benchmarks)."""
    return _grouped_statement(group_by, caller, filters)
