"""Presets and holidays."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, RawBody

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import RowId
from gateway.core.master_data import holidays, presets
from gateway.core.master_data.holidays import HolidayRename, HolidayWrite
from gateway.core.master_data.presets import PresetCreate, PresetUpdate
from gateway.core.models import Holiday, Preset

MAX_ICALENDAR_BYTES = 1024 * 1024


class PresetOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    customer_id: int
    project_id: int
    activity_id: int
    description: str


class HolidayOut(msgspec.Struct, kw_only=True):
    day: date
    name: str


class HolidayImportOut(msgspec.Struct, kw_only=True):
    created: int
    updated: int
    unchanged: int


def preset_out(preset: Preset) -> PresetOut:
    return msgspec.convert(preset, PresetOut, from_attributes=True)


def holiday_out(holiday: Holiday) -> HolidayOut:
    return HolidayOut(day=holiday.day, name=holiday.name)


class PresetController(Controller):
    path = "/api/presets"
    tags = ["presets"]
    opt = READ_ONLY_GETS

    @get("", summary="Presets on projects the caller can see")
    async def list_presets(self, caller: CurrentCaller, db_session: DbSession, page: PageQuery) -> PageOut[PresetOut]:
        return page_out(await presets.list_presets(db_session, caller, page), preset_out)

    @get("/{preset_id:int}", summary="One preset")
    async def get_preset(self, caller: CurrentCaller, db_session: DbSession, preset_id: RowId) -> PresetOut:
        return preset_out(await presets.get_preset(db_session, caller, preset_id))

    @post("", summary="Create a preset (ADMIN or PL)", responses=problems(403, 422))
    async def create_preset(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[PresetCreate]
    ) -> PresetOut:
        return preset_out(await presets.create_preset(db_session, caller, data))

    @patch("/{preset_id:int}", summary="Change a preset (ADMIN or PL)", responses=problems(403, 422))
    async def update_preset(
        self, caller: CurrentCaller, db_session: DbSession, preset_id: RowId, data: JSONBody[PresetUpdate]
    ) -> PresetOut:
        return preset_out(await presets.update_preset(db_session, caller, preset_id, data))

    @delete("/{preset_id:int}", summary="Delete a preset (ADMIN or PL)", responses=problems(403))
    async def delete_preset(self, caller: CurrentCaller, db_session: DbSession, preset_id: RowId) -> None:
        await presets.delete_preset(db_session, caller, preset_id)


class HolidayController(Controller):
    path = "/api/holidays"
    tags = ["holidays"]
    opt = READ_ONLY_GETS

    @get("", summary="Holidays, optionally between two days")
    async def list_holidays(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        first_day: FromQuery[date | None] = None,
        last_day: FromQuery[date | None] = None,
    ) -> list[HolidayOut]:
        return [holiday_out(h) for h in await holidays.list_holidays(db_session, first_day, last_day)]

    @put("", summary="Set the holiday of a day (ADMIN): creates it or renames it", responses=problems(403, 422))
    async def set_holiday(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[HolidayWrite]
    ) -> HolidayOut:
        return holiday_out(await holidays.set_holiday(db_session, caller, data))

    @patch("/{day:date}", summary="Rename a holiday (ADMIN)", responses=problems(403, 422))
    async def rename_holiday(
        self, caller: CurrentCaller, db_session: DbSession, day: FromPath[date], data: JSONBody[HolidayRename]
    ) -> HolidayOut:
        await holidays.get_holiday(db_session, day)
        return holiday_out(await holidays.set_holiday(db_session, caller, HolidayWrite(day=day, name=data.name)))

    @delete("/{day:date}", summary="Remove a holiday (ADMIN)", responses=problems(403))
    async def delete_holiday(self, caller: CurrentCaller, db_session: DbSession, day: FromPath[date]) -> None:
        await holidays.delete_holiday(db_session, caller, day)

    @post(
        "/import",
        request_max_body_size=MAX_ICALENDAR_BYTES,
        summary="Import the all-day events of an iCalendar file (text/calendar body) as holidays (ADMIN)",
        status_code=200,
        responses=problems(403, 422),
    )
    async def import_holidays(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        body: RawBody,
    ) -> HolidayImportOut:
        result = await holidays.import_icalendar(db_session, caller, body)
        return HolidayImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)
