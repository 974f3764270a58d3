"""Public holidays: target hours are zero on them and bulk entry skips them; ADMIN maintains the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import msgspec
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import get_one
from gateway.core.errors import InvalidInput
from gateway.core.master_data.types import Name
from gateway.core.models import Holiday
from gateway.core.permissions import require_admin

MAX_IMPORT_DAYS = 1000


class HolidayWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    day: date
    name: Name


class HolidayRename(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


async def list_holidays(session: AsyncSession, start: date | None, end: date | None) -> list[Holiday]:
    stmt = select(Holiday).order_by(Holiday.day)
    if start is not None:
        stmt = stmt.where(Holiday.day >= start)
    if end is not None:
        stmt = stmt.where(Holiday.day <= end)
    return list((await session.scalars(stmt)).all())


async def holidays_between(session: AsyncSession, start: date, end: date) -> set[date]:
    return {holiday.day for holiday in await list_holidays(session, start, end)}


async def get_holiday(session: AsyncSession, day: date) -> Holiday:
    return await get_one(session, select(Holiday).where(Holiday.day == day), "holiday on", day.isoformat())


async def set_holiday(session: AsyncSession, caller: Caller, data: HolidayWrite) -> Holiday:
    """Create the holiday of `data.day`, or rename the one already there."""
    require_admin(caller, "manage holidays")
    holiday = await session.get(Holiday, data.day)
    if holiday is None:
        holiday = Holiday(day=data.day, name=data.name.strip())
        session.add(holiday)
    else:
        holiday.name = data.name.strip()
    await session.flush()
    return holiday


async def delete_holiday(session: AsyncSession, caller: Caller, day: date) -> None:
    require_admin(caller, "manage holidays")
    await session.delete(await get_holiday(session, day))
    await session.flush()


async def import_icalendar(session: AsyncSession, caller: Caller, content: bytes) -> ImportResult:
    """Store every all-day event of an iCalendar file as a holiday (each day of a multi-day event)."""
    require_admin(caller, "import holidays")
    days = parse_icalendar_holidays(content)
    existing = {h.day: h for h in (await session.scalars(select(Holiday).where(Holiday.day.in_(days)))).all()}
    created = updated = 0
    for day, name in days.items():
        holiday = existing.get(day)
        if holiday is None:
            session.add(Holiday(day=day, name=name))
            created += 1
        elif holiday.name != name:
            holiday.name = name
            updated += 1
    await session.flush()
    return ImportResult(created=created, updated=updated, unchanged=len(days) - created - updated)


def parse_icalendar_holidays(content: bytes) -> dict[date, str]:
    try:
        calendar = Calendar.from_ical(content)
    except ValueError as exc:
        raise InvalidInput(f"the file is not an iCalendar (RFC 5545) file: {exc}") from None
    days: dict[date, str] = {}
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART", None)
        if not isinstance(start, date) or hasattr(start, "hour"):
            continue  # holidays are all-day events; timed events are appointments
        end = event.decoded("DTEND", None)
        last = end - timedelta(days=1) if isinstance(end, date) and end > start else start
        name = str(event.get("SUMMARY", "Holiday")).strip()[:255] or "Holiday"
        day = start
        while day <= last:
            days[day] = name
            day += timedelta(days=1)
            if len(days) > MAX_IMPORT_DAYS:
                raise InvalidInput(f"the file holds more than {MAX_IMPORT_DAYS} holiday days; split it")
    if not days:
        raise InvalidInput("the file contains no all-day events")
    return days
