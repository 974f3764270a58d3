"""What the "My week" page shows, gathered from core services: the week's entries per day with their names and
tickets, each day's target from the contract (holidays have none), the totals, and the choices for booking.

Nothing is computed here that core does not already say: targets and balances come from the timesheet, day
classes and sync states from the entries.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core import entries
from gateway.core.auth.caller import Caller
from gateway.core.entries import EntryFilter
from gateway.core.errors import NotFound
from gateway.core.listing import MAX_LIMIT, Page, PageRequest
from gateway.core.master_data.accounts import list_accounts
from gateway.core.master_data.activities import list_activities
from gateway.core.master_data.contracts import has_contracts
from gateway.core.master_data.customers import CustomerFilter, list_customers
from gateway.core.master_data.presets import list_presets
from gateway.core.master_data.projects import ProjectFilter, list_projects
from gateway.core.models import Account, Activity, Entry, Preset, Ticket
from gateway.core.reports.timesheet import TimesheetDay, timesheet
from gateway.core.ticket_cache import cached_tickets

T = TypeVar("T")
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        found = _ISO_WEEK.match(text)
        if found is None:
            raise NotFound(f"there is no week {text!r}; weeks look like 2026-W48")
        try:
            date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
        except ValueError:
            raise NotFound(f"there is no week {text!r}") from None
        return cls(int(found.group(1)), int(found.group(2)))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(7)]

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    id: int
    name: str
    customer_id: int
    customer: str
    global_: bool
    active: bool
    ticket_system_id: int | None


@dataclass(frozen=True, slots=True)
class Choices:
    """What an entry can be booked on, and the names to show for ids."""

    projects: list[ProjectChoice]
    customers: dict[int, str]
    activities: Sequence[Activity]
    accounts: Sequence[Account]
    presets: Sequence[Preset]

    @property
    def bookable_projects(self) -> list[ProjectChoice]:
        return [p for p in self.projects if p.active]

    @property
    def by_customer(self) -> list[tuple[str, list[ProjectChoice]]]:
        groups: dict[str, list[ProjectChoice]] = {}
        for project in self.bookable_projects:
            groups.setdefault(project.customer, []).append(project)
        return sorted(groups.items(), key=lambda item: item[0].lower())

    def project(self, project_id: int) -> ProjectChoice | None:
        return next((p for p in self.projects if p.id == project_id), None)

    def activity_name(self, activity_id: int) -> str:
        return next((a.name for a in self.activities if a.id == activity_id), f"activity {activity_id}")

    def account_name(self, account_id: int | None) -> str | None:
        if account_id is None:
            return None
        return next((a.name for a in self.accounts if a.id == account_id), f"account {account_id}")


@dataclass(frozen=True, slots=True)
class EntryRow:
    entry: Entry
    project: str
    customer: str
    activity: str
    account: str | None
    ticket: Ticket | None


@dataclass(slots=True)
class DayView:
    day: date
    target: int
    booked: int
    holiday: str | None
    is_today: bool
    rows: list[EntryRow] = field(default_factory=list)

    @property
    def balance(self) -> int:
        return self.booked - self.target


@dataclass(frozen=True, slots=True)
class WeekView:
    week: IsoWeek
    days: list[DayView]
    today: date
    # The running balance (overtime) up to the end of the week or today, for users with contracts.
    balance: int | None
    balance_until: date | None

    @property
    def target(self) -> int:
        return sum(day.target for day in self.days)

    @property
    def booked(self) -> int:
        return sum(day.booked for day in self.days)

    @property
    def default_day(self) -> date:
        """The day a new entry goes to: today in the current week, else the week's Monday."""
        return self.today if self.today in self.week.days else self.week.monday


async def booking_choices(session: AsyncSession, caller: Caller) -> Choices:
    customers = {c.id: c.name for c in await _all(lambda page: list_customers(session, caller, CustomerFilter(), page))}
    projects = [
        ProjectChoice(
            id=p.id,
            name=p.name,
            customer_id=p.customer_id,
            customer=customers.get(p.customer_id, f"customer {p.customer_id}"),
            global_=p.global_,
            active=p.active,
            ticket_system_id=p.ticket_system_id,
        )
        for p in await _all(lambda page: list_projects(session, caller, ProjectFilter(), page))
    ]
    return Choices(
        projects=projects,
        customers=customers,
        activities=await _all(lambda page: list_activities(session, None, page)),
        accounts=await _all(lambda page: list_accounts(session, page)),
        presets=await _all(lambda page: list_presets(session, caller, page)),
    )


async def week_view(session: AsyncSession, caller: Caller, week: IsoWeek, choices: Choices, today: date) -> WeekView:
    first, last = week.days[0], week.days[-1]
    found = await _all(
        lambda page: entries.list_entries(
            session, caller, EntryFilter(first_day=first, last_day=last), _with_sort(page, "day,start,id")
        )
    )
    tickets = await cached_tickets(session, {key for entry in found if (key := _ticket_key(entry, choices))})
    sheet: dict[date, TimesheetDay] = {}
    for month in sorted({f"{day:%Y-%m}" for day in week.days}):
        sheet.update({d.day: d for d in (await timesheet(session, caller, caller.user_id, month)).days})

    days = [
        DayView(
            day=day,
            target=sheet[day].target_minutes,
            booked=sheet[day].booked_minutes,
            holiday=sheet[day].holiday,
            is_today=day == today,
        )
        for day in week.days
    ]
    by_day = {view.day: view for view in days}
    for entry in found:
        project = choices.project(entry.project_id)
        key = _ticket_key(entry, choices)
        by_day[entry.day].rows.append(
            EntryRow(
                entry=entry,
                project=project.name if project else f"project {entry.project_id}",
                customer=choices.customers.get(entry.customer_id, f"customer {entry.customer_id}"),
                activity=choices.activity_name(entry.activity_id),
                account=choices.account_name(entry.account_id),
                ticket=tickets.get(key) if key else None,
            )
        )

    balance_until = min(last, today) if first <= today else None
    balance = None
    if balance_until is not None and await has_contracts(session, caller.user_id):
        balance = sheet[balance_until].running_balance
    else:
        balance_until = None
    return WeekView(week=week, days=days, today=today, balance=balance, balance_until=balance_until)


def _ticket_key(entry: Entry, choices: Choices) -> tuple[int, str] | None:
    project = choices.project(entry.project_id)
    if not entry.ticket or project is None or project.ticket_system_id is None:
        return None
    return (project.ticket_system_id, entry.ticket)


def _with_sort(page: PageRequest, sort: str) -> PageRequest:
    return PageRequest(limit=page.limit, offset=page.offset, sort=sort)


async def _all(fetch: Callable[[PageRequest], Awaitable[Page[T]]]) -> list[T]:
    """Every row of a paged list (the lists here are a user's week and master data: short)."""
    rows: list[T] = []
    while True:
        page = await fetch(PageRequest(limit=MAX_LIMIT, offset=len(rows)))
        rows.extend(page.items)
        if not page.items or len(rows) >= page.total:
            return rows
