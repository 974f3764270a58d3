"""A user's month: time booked per day against the contract's hours, and the balance (overtime).

The target of a day is its weekday's hours in the contract covering it (Sunday is `hours_0`); a holiday and a
day no contract covers have none. The running balance starts at the user's first contract and carries over
from month to month: `balance_before` is everything up to the month, each day then adds booked minus target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.errors import InvalidInput
from gateway.core.master_data.users import get_visible_user
from gateway.core.models import Contract, Entry, Holiday, User
from gateway.core.visibility import visible_entries


@dataclass(frozen=True, slots=True)
class TimesheetDay:
    day: date
    target_minutes: int
    booked_minutes: int
    holiday: str | None
    running_balance: int

    @property
    def balance(self) -> int:
        return self.booked_minutes - self.target_minutes


@dataclass(frozen=True, slots=True)
class Timesheet:
    user: User
    month: str
    days: list[TimesheetDay]
    balance_before: int

    @property
    def target_minutes(self) -> int:
        return sum(day.target_minutes for day in self.days)

    @property
    def booked_minutes(self) -> int:
        return sum(day.booked_minutes for day in self.days)

    @property
    def balance(self) -> int:
        return self.booked_minutes - self.target_minutes

    @property
    def balance_after(self) -> int:
        return self.balance_before + self.balance


def parse_month(text: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidInput("month must look like 2026-11", field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def target_minutes(contracts: list[Contract], holidays: dict[date, str], day: date) -> int:
    if day in holidays:
        return 0
    for contract in contracts:
        if contract.start <= day and (contract.end is None or day <= contract.end):
            hours: Decimal = getattr(contract, f"hours_{day.isoweekday() % 7}")
            return round(hours * 60)
    return 0


def target_minutes_between(contracts: list[Contract], holidays: dict[date, str], first: date, last: date) -> int:
    """The contracts' target over a range of days (holidays excluded), counted per weekday, not day by day."""
    total = 0
    for contract in contracts:
        begin, end = max(first, contract.start), min(last, contract.end or last)
        if begin > end:
            continue
        days = (end - begin).days + 1
        for offset in range(7):
            weekday = begin + timedelta(days=offset)
            count = days // 7 + (1 if offset < days % 7 else 0)
            total += count * round(getattr(contract, f"hours_{weekday.isoweekday() % 7}") * 60)
        total -= sum(target_minutes([contract], {}, day) for day in holidays if begin <= day <= end)
    return total


async def timesheet(session: AsyncSession, caller: Caller, user_id: int, month: str) -> Timesheet:
    user = await get_visible_user(session, caller, user_id)
    first, last = parse_month(month)
    contracts = list((await session.scalars(select(Contract).where(Contract.user_id == user.id))).all())
    start = min((contract.start for contract in contracts), default=first)
    holidays = {
        h.day: h.name
        for h in (await session.scalars(select(Holiday).where(Holiday.day >= start, Holiday.day <= last))).all()
    }

    booked_per_day = dict(
        (
            await session.execute(
                visible_entries(
                    select(Entry.day, func.sum(Entry.duration))
                    .where(Entry.user_id == user.id, Entry.deleted_at.is_(None), Entry.day >= start, Entry.day <= last)
                    .group_by(Entry.day),
                    caller,
                )
            )
        ).all()
    )
    # Everything before the month at once (a far month must not mean a day-by-day walk over centuries).
    booked_before = sum(int(minutes) for day, minutes in booked_per_day.items() if day < first)
    balance_before = booked_before - target_minutes_between(contracts, holidays, start, first - timedelta(days=1))
    balance = balance_before
    days: list[TimesheetDay] = []
    day = first
    while day <= last:
        target = target_minutes(contracts, holidays, day)
        booked = int(booked_per_day.get(day, 0))
        balance += booked - target
        days.append(TimesheetDay(day, target, booked, holidays.get(day), balance))
        day += timedelta(days=1)
    return Timesheet(user=user, month=month, days=days, balance_before=balance_before)
