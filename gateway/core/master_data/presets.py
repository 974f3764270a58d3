"""Presets: a named customer, project, activity and description for quick and bulk entry."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import apply_changes, get_one, given_fields, referenced
from gateway.core.errors import InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.activities import get_activity
from gateway.core.master_data.projects import get_project
from gateway.core.master_data.types import Id, Name
from gateway.core.models import Preset, Project
from gateway.core.permissions import require_manager
from gateway.core.visibility import projects_visible_to

Description = Annotated[str, msgspec.Meta(max_length=4000)]


class PresetCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    project_id: Id
    activity_id: Id
    customer_id: Id | None = None
    description: Description = ""


class PresetUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    project_id: Id | msgspec.UnsetType = msgspec.UNSET
    activity_id: Id | msgspec.UnsetType = msgspec.UNSET
    customer_id: Id | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"name": Preset.name, "id": Preset.id}


def _visible(caller: Caller) -> Select[Preset]:
    stmt = select(Preset).join(Project, Project.id == Preset.project_id).where(Project.deleted_at.is_(None))
    condition = projects_visible_to(caller.user_id, caller.type)
    return stmt if condition is None else stmt.where(condition)


async def list_presets(session: AsyncSession, caller: Caller, page: PageRequest) -> Page[Preset]:
    return await fetch_page(
        session, _visible(caller), page, sortable=SORTABLE, default_order=[Preset.name], tiebreaker=Preset.id
    )


async def get_preset(session: AsyncSession, caller: Caller, preset_id: int) -> Preset:
    return await get_one(session, _visible(caller).where(Preset.id == preset_id), "preset", preset_id)


async def create_preset(session: AsyncSession, caller: Caller, data: PresetCreate) -> Preset:
    require_manager(caller, "manage presets")
    values = await _checked(session, caller, msgspec.structs.asdict(data))
    preset = Preset(**values)
    session.add(preset)
    await session.flush()
    return preset


async def update_preset(session: AsyncSession, caller: Caller, preset_id: int, data: PresetUpdate) -> Preset:
    require_manager(caller, "manage presets")
    preset = await get_preset(session, caller, preset_id)
    values = given_fields(data)
    if {"project_id", "activity_id", "customer_id"} & values.keys():
        merged = {
            "project_id": preset.project_id,
            "activity_id": preset.activity_id,
            "customer_id": preset.customer_id,
            **values,
        }
        values = {**values, **await _checked(session, caller, merged)}
    apply_changes(preset, values)
    await session.flush()
    return preset


async def delete_preset(session: AsyncSession, caller: Caller, preset_id: int) -> None:
    require_manager(caller, "manage presets")
    await session.delete(await get_preset(session, caller, preset_id))
    await session.flush()


async def _checked(session: AsyncSession, caller: Caller, values: dict[str, Any]) -> dict[str, Any]:
    """The preset's references, checked as an entry would be: the customer defaults from the project."""
    project = await referenced(get_project(session, caller, values["project_id"]), "project_id")
    await referenced(get_activity(session, values["activity_id"]), "activity_id")
    customer_id = values.get("customer_id") or project.customer_id
    if customer_id != project.customer_id and not project.global_:
        raise InvalidInput("the customer must be the project's own customer", field="customer_id")
    return {**values, "customer_id": customer_id}
