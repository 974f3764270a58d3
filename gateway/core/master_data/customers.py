"""Customers: visible to their teams (or to everyone when global); managed by ADMIN and their teams' PLs."""

from __future__ import annotations

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from gateway.core.auth.caller import Caller
from gateway.core.crud import apply_changes, flush_unique, get_one, given_fields, soft_delete
from gateway.core.errors import InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import Id, Name
from gateway.core.models import Customer, Team
from gateway.core.permissions import (
    require_admin,
    require_manager,
    require_manages_customer,
    require_team_of_caller,
)
from gateway.core.visibility import visible_customers


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    active: bool = True
    global_: bool = msgspec.field(default=False, name="global")
    team_ids: list[Id] = msgspec.field(default_factory=list)


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    global_: bool | msgspec.UnsetType = msgspec.field(default=msgspec.UNSET, name="global")
    team_ids: list[Id] | msgspec.UnsetType = msgspec.UNSET


class CustomerFilter(msgspec.Struct, kw_only=True):
    name: str | None = None
    active: bool | None = None


SORTABLE = {"name": Customer.name, "id": Customer.id, "active": Customer.active}


def _visible(caller: Caller) -> Select[Customer]:
    live = select(Customer).where(Customer.deleted_at.is_(None)).options(selectinload(Customer.teams))
    return visible_customers(live, caller)


async def list_customers(
    session: AsyncSession, caller: Caller, filters: CustomerFilter, page: PageRequest
) -> Page[Customer]:
    stmt = _visible(caller)
    if filters.name:
        stmt = stmt.where(Customer.name.ilike(f"%{filters.name}%"))
    if filters.active is not None:
        stmt = stmt.where(Customer.active.is_(filters.active))
    return await fetch_page(
        session, stmt, page, sortable=SORTABLE, default_order=[Customer.name], tiebreaker=Customer.id
    )


async def get_customer(session: AsyncSession, caller: Caller, customer_id: int) -> Customer:
    return await get_one(session, _visible(caller).where(Customer.id == customer_id), "customer", customer_id)


# A global customer is seen by every user of every team: only an ADMIN decides that.
GLOBAL_ACTION = "make a customer global or local (a global customer is visible to every team)"


async def create_customer(session: AsyncSession, caller: Caller, data: CustomerCreate) -> Customer:
    require_manager(caller, "create customers")
    if data.global_:
        require_admin(caller, GLOBAL_ACTION)
    await require_team_of_caller(session, caller, data.team_ids)
    customer = Customer(name=data.name.strip(), active=data.active, global_=data.global_)
    customer.teams = await _teams(session, data.team_ids)
    session.add(customer)
    await flush_unique(session, f"a customer named {data.name!r} already exists")
    return customer


async def update_customer(session: AsyncSession, caller: Caller, customer_id: int, data: CustomerUpdate) -> Customer:
    customer = await get_customer(session, caller, customer_id)
    await require_manages_customer(session, caller, customer.id)
    values = given_fields(data)
    if values.get("global_", customer.global_) != customer.global_:
        require_admin(caller, GLOBAL_ACTION)
    team_ids = values.pop("team_ids", None)
    if "name" in values:
        values["name"] = values["name"].strip()
    apply_changes(customer, values)
    if team_ids is not None:
        await require_team_of_caller(session, caller, team_ids)
        await session.refresh(customer, ["teams"])
        customer.teams = await _teams(session, team_ids)
    await flush_unique(session, f"a customer named {customer.name!r} already exists")
    return customer


async def delete_customer(session: AsyncSession, caller: Caller, customer_id: int) -> None:
    customer = await get_customer(session, caller, customer_id)
    await require_manages_customer(session, caller, customer.id)
    soft_delete(customer)
    await session.flush()


async def _teams(session: AsyncSession, team_ids: list[int]) -> list[Team]:
    teams = list((await session.scalars(select(Team).where(Team.id.in_(team_ids), Team.deleted_at.is_(None)))).all())
    missing = set(team_ids) - {team.id for team in teams}
    if missing:
        raise InvalidInput(f"no team with id {', '.join(map(str, sorted(missing)))}", field="team_ids")
    return teams
