"""Activities: readable by everyone, managed by ADMIN and PL."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import apply_changes, flush_unique, get_one, given_fields, soft_delete
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import ShortName
from gateway.core.models import Activity
from gateway.core.permissions import require_manager

# The billable share of an activity's time, with two decimals (1.0 = all of it).
Factor = Annotated[float, msgspec.Meta(ge=0, le=10)]


class ActivityCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName
    needs_ticket: bool = False
    factor: Factor = 1.0


class ActivityUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName | msgspec.UnsetType = msgspec.UNSET
    needs_ticket: bool | msgspec.UnsetType = msgspec.UNSET
    factor: Factor | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"name": Activity.name, "id": Activity.id}


def _live() -> Select[Activity]:
    return select(Activity).where(Activity.deleted_at.is_(None))


async def list_activities(session: AsyncSession, name: str | None, page: PageRequest) -> Page[Activity]:
    stmt = _live()
    if name:
        stmt = stmt.where(Activity.name.ilike(f"%{name}%"))
    return await fetch_page(
        session, stmt, page, sortable=SORTABLE, default_order=[Activity.name], tiebreaker=Activity.id
    )


async def get_activity(session: AsyncSession, activity_id: int) -> Activity:
    return await get_one(session, _live().where(Activity.id == activity_id), "activity", activity_id)


async def create_activity(session: AsyncSession, caller: Caller, data: ActivityCreate) -> Activity:
    require_manager(caller, "manage activities")
    activity = Activity(name=data.name.strip(), needs_ticket=data.needs_ticket, factor=_factor(data.factor))
    session.add(activity)
    await flush_unique(session, f"an activity named {data.name!r} already exists")
    return activity


async def update_activity(session: AsyncSession, caller: Caller, activity_id: int, data: ActivityUpdate) -> Activity:
    require_manager(caller, "manage activities")
    activity = await get_activity(session, activity_id)
    values = given_fields(data)
    if "factor" in values:
        values["factor"] = _factor(values["factor"])
    if "name" in values:
        values["name"] = values["name"].strip()
    apply_changes(activity, values)
    await flush_unique(session, f"an activity named {activity.name!r} already exists")
    return activity


async def delete_activity(session: AsyncSession, caller: Caller, activity_id: int) -> None:
    require_manager(caller, "manage activities")
    soft_delete(await get_activity(session, activity_id))
    await session.flush()


def _factor(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
