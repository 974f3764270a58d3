"""Teams with their members and customers: ADMIN manages them; members and leads see their own teams."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gateway.core.auth.caller import Caller
from gateway.core.crud import flush_unique, get_one, given_fields, soft_delete
from gateway.core.errors import InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import Id, ShortName
from gateway.core.models import Customer, Team, User
from gateway.core.permissions import require_admin
from gateway.core.visibility import visible_teams


class TeamCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName
    lead_user_id: Id | None = None
    member_ids: list[Id] = msgspec.field(default_factory=list)
    customer_ids: list[Id] = msgspec.field(default_factory=list)


class TeamUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName | msgspec.UnsetType = msgspec.UNSET
    lead_user_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    member_ids: list[Id] | msgspec.UnsetType = msgspec.UNSET
    customer_ids: list[Id] | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"name": Team.name, "id": Team.id}
M = TypeVar("M", User, Customer)


def _visible(caller: Caller) -> Select[Team]:
    live = (
        select(Team).where(Team.deleted_at.is_(None)).options(selectinload(Team.members), selectinload(Team.customers))
    )
    return visible_teams(live, caller)


async def list_teams(session: AsyncSession, caller: Caller, page: PageRequest) -> Page[Team]:
    return await fetch_page(
        session, _visible(caller), page, sortable=SORTABLE, default_order=[Team.name], tiebreaker=Team.id
    )


async def get_team(session: AsyncSession, caller: Caller, team_id: int) -> Team:
    return await get_one(session, _visible(caller).where(Team.id == team_id), "team", team_id)


async def create_team(session: AsyncSession, caller: Caller, data: TeamCreate) -> Team:
    require_admin(caller, "manage teams")
    team = Team(name=data.name.strip())
    team.members, team.customers = [], []
    session.add(team)
    await _apply(session, team, msgspec.structs.asdict(data))
    await flush_unique(session, f"a team named {data.name!r} already exists")
    return team


async def update_team(session: AsyncSession, caller: Caller, team_id: int, data: TeamUpdate) -> Team:
    require_admin(caller, "manage teams")
    team = await get_team(session, caller, team_id)
    await _apply(session, team, given_fields(data))
    await flush_unique(session, f"a team named {team.name!r} already exists")
    return team


async def delete_team(session: AsyncSession, caller: Caller, team_id: int) -> None:
    require_admin(caller, "manage teams")
    soft_delete(await get_team(session, caller, team_id))
    await session.flush()


async def _apply(session: AsyncSession, team: Team, values: dict[str, Any]) -> None:
    if "name" in values:
        team.name = values["name"].strip()
    if "lead_user_id" in values:
        if values["lead_user_id"] is not None:
            await _rows(session, User, [values["lead_user_id"]], "lead_user_id")
        team.lead_user_id = values["lead_user_id"]
    if "member_ids" in values:
        team.members = await _rows(session, User, values["member_ids"], "member_ids")
    if "customer_ids" in values:
        team.customers = await _rows(session, Customer, values["customer_ids"], "customer_ids")


async def _rows(session: AsyncSession, model: type[M], ids: list[int], field: str) -> list[M]:
    rows = list((await session.scalars(select(model).where(model.id.in_(ids), model.deleted_at.is_(None)))).all())
    missing = set(ids) - {row.id for row in rows}
    if missing:
        what = "user" if model is User else "customer"
        raise InvalidInput(f"no {what} with id {', '.join(map(str, sorted(missing)))}", field=field)
    return rows
