"""Bulk entry: one entry per working day of a range, from a preset; all of them or none.

A day is skipped when it is a Saturday or Sunday (unless asked otherwise), a holiday, or — for a user with
contracts — a day whose contract has no hours for that weekday or that no contract covers. With
`use_contract`, each day runs from 08:00 for that weekday's contract hours; otherwise from `start` to `end`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import referenced
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.entry_rules import Description, Ticket
from gateway.core.errors import InvalidInput
from gateway.core.master_data.contracts import contract_on, has_contracts, hours_on
from gateway.core.master_data.holidays import holidays_between
from gateway.core.master_data.presets import get_preset
from gateway.core.master_data.types import Id, WallTime
from gateway.core.models import Entry

MAX_DAYS = 100
CONTRACT_DAY_START = time(8, 0)


class BulkEntryCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    preset_id: Id
    first_day: date
    last_day: date
    use_contract: bool = False
    start: WallTime | None = None
    end: WallTime | None = None
    skip_weekends: bool = True
    ticket: Ticket = ""
    # Replaces the preset's description when given.
    description: Description | None = None
    user_id: Id | None = None


async def create_bulk_entries(session: AsyncSession, caller: Caller, data: BulkEntryCreate) -> list[Entry]:
    if data.last_day < data.first_day:
        raise InvalidInput("the last day lies before the first day", field="last_day")
    if (data.last_day - data.first_day).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a bulk entry covers at most {MAX_DAYS} days", field="last_day")
    fixed_span: tuple[str, str] | None = None
    if not data.use_contract:
        if data.start is None or data.end is None:
            raise InvalidInput("give start and end, or use_contract", field="start")
        fixed_span = (data.start, data.end)
    preset = await referenced(get_preset(session, caller, data.preset_id), "preset_id")
    user_id = data.user_id or caller.user_id
    holidays = await holidays_between(session, data.first_day, data.last_day)
    with_contracts = await has_contracts(session, user_id)

    entries: list[Entry] = []
    day = data.first_day
    while day <= data.last_day:
        span = await _span_of(session, data, fixed_span, user_id, day, holidays, with_contracts)
        if span is not None:
            entry = EntryCreate(
                day=day,
                start=span[0],
                end=span[1],
                project_id=preset.project_id,
                activity_id=preset.activity_id,
                customer_id=preset.customer_id,
                ticket=data.ticket,
                description=preset.description if data.description is None else data.description,
                user_id=data.user_id,
            )
            entries.append(await create_entry(session, caller, entry, source="api:bulk"))
        day += timedelta(days=1)
    if not entries:
        raise InvalidInput("no day in the range is a working day of this user", field="first_day")
    return entries


async def _span_of(
    session: AsyncSession,
    data: BulkEntryCreate,
    fixed_span: tuple[str, str] | None,
    user_id: int,
    day: date,
    holidays: set[date],
    with_contracts: bool,
) -> tuple[str, str] | None:
    """The day's (start, end) as wall-clock text, or None when the day is skipped."""
    if (data.skip_weekends and day.weekday() >= 5) or day in holidays:
        return None
    hours = Decimal(0)
    if with_contracts:
        contract = await contract_on(session, user_id, day)
        hours = hours_on(contract, day) if contract is not None else Decimal(0)
        if hours <= 0:
            return None
    if fixed_span is not None:
        return fixed_span
    if not with_contracts:
        raise InvalidInput("use_contract needs the user to have a contract", field="use_contract")
    minutes = int(hours * 60)
    end = datetime.combine(day, CONTRACT_DAY_START) + timedelta(minutes=minutes)
    if end.date() != day:
        raise InvalidInput(f"{hours} contract hours from 08:00 would run past midnight on {day}", field="use_contract")
    return CONTRACT_DAY_START.strftime("%H:%M"), end.strftime("%H:%M")
