"""Projects: seen through their customer (or by everyone when global); managed by whoever manages the customer."""

from __future__ import annotations

from typing import Annotated

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import apply_changes, flush_unique, get_one, given_fields, referenced, soft_delete
from gateway.core.enums import BillingType
from gateway.core.errors import InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.customers import get_customer
from gateway.core.master_data.types import Id, Minutes, Name
from gateway.core.models import Project, TicketSystem, User
from gateway.core.permissions import require_admin, require_manages_customer
from gateway.core.tickets import TICKET_KEY, TICKET_PREFIX
from gateway.core.visibility import visible_projects

TicketPrefix = Annotated[str, msgspec.Meta(pattern=TICKET_PREFIX.pattern, max_length=255)]
TicketKey = Annotated[str, msgspec.Meta(pattern=TICKET_KEY.pattern, max_length=128)]


class ProjectCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id
    name: Name
    active: bool = True
    global_: bool = msgspec.field(default=False, name="global")
    ticket_system_id: Id | None = None
    ticket_prefixes: list[TicketPrefix] = msgspec.field(default_factory=list)
    subtickets: list[TicketKey] = msgspec.field(default_factory=list)
    estimation_minutes: Minutes | None = None
    offer: str | None = None
    billing: BillingType = BillingType.NONE
    cost_center: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    project_lead_id: Id | None = None
    technical_lead_id: Id | None = None


class ProjectUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_id: Id | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    global_: bool | msgspec.UnsetType = msgspec.field(default=msgspec.UNSET, name="global")
    ticket_system_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    ticket_prefixes: list[TicketPrefix] | msgspec.UnsetType = msgspec.UNSET
    subtickets: list[TicketKey] | msgspec.UnsetType = msgspec.UNSET
    estimation_minutes: Minutes | msgspec.UnsetType | None = msgspec.UNSET
    offer: str | msgspec.UnsetType | None = msgspec.UNSET
    billing: BillingType | msgspec.UnsetType = msgspec.UNSET
    cost_center: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType | None = msgspec.UNSET
    project_lead_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    technical_lead_id: Id | msgspec.UnsetType | None = msgspec.UNSET


class ProjectFilter(msgspec.Struct, kw_only=True):
    customer_id: int | None = None
    name: str | None = None
    active: bool | None = None


SORTABLE = {"name": Project.name, "id": Project.id, "customer_id": Project.customer_id, "active": Project.active}


def _visible(caller: Caller) -> Select[Project]:
    return visible_projects(select(Project).where(Project.deleted_at.is_(None)), caller)


async def list_projects(
    session: AsyncSession, caller: Caller, filters: ProjectFilter, page: PageRequest
) -> Page[Project]:
    stmt = _visible(caller)
    if filters.customer_id is not None:
        stmt = stmt.where(Project.customer_id == filters.customer_id)
    if filters.name:
        stmt = stmt.where(Project.name.ilike(f"%{filters.name}%"))
    if filters.active is not None:
        stmt = stmt.where(Project.active.is_(filters.active))
    return await fetch_page(session, stmt, page, sortable=SORTABLE, default_order=[Project.name], tiebreaker=Project.id)


async def get_project(session: AsyncSession, caller: Caller, project_id: int) -> Project:
    return await get_one(session, _visible(caller).where(Project.id == project_id), "project", project_id)


# The ticket system decides where a team's worklogs go (and with whose links): only an ADMIN chooses it.
TICKET_SYSTEM_ACTION = "choose the ticket system a project's time is booked to"


async def create_project(session: AsyncSession, caller: Caller, data: ProjectCreate) -> Project:
    customer = await referenced(get_customer(session, caller, data.customer_id), "customer_id")
    await require_manages_customer(session, caller, customer.id)
    if data.ticket_system_id is not None:
        require_admin(caller, TICKET_SYSTEM_ACTION)
    values = msgspec.structs.asdict(data)
    await _check_references(session, values)
    project = Project(**_normalised(values))
    session.add(project)
    await flush_unique(session, f"the customer already has a project named {data.name!r}")
    return project


async def update_project(session: AsyncSession, caller: Caller, project_id: int, data: ProjectUpdate) -> Project:
    project = await get_project(session, caller, project_id)
    await require_manages_customer(session, caller, project.customer_id)
    values = given_fields(data)
    if values.get("ticket_system_id", project.ticket_system_id) != project.ticket_system_id:
        require_admin(caller, TICKET_SYSTEM_ACTION)
    if "customer_id" in values and values["customer_id"] != project.customer_id:
        await referenced(get_customer(session, caller, values["customer_id"]), "customer_id")
        await require_manages_customer(session, caller, values["customer_id"])
    await _check_references(session, values)
    apply_changes(project, _normalised(values))
    await flush_unique(session, f"the customer already has a project named {project.name!r}")
    return project


async def delete_project(session: AsyncSession, caller: Caller, project_id: int) -> None:
    project = await get_project(session, caller, project_id)
    await require_manages_customer(session, caller, project.customer_id)
    soft_delete(project)
    await session.flush()


def _normalised(values: dict[str, object]) -> dict[str, object]:
    if isinstance(values.get("name"), str):
        values["name"] = str(values["name"]).strip()
    for key in ("ticket_prefixes", "subtickets"):
        if isinstance(values.get(key), list):
            values[key] = sorted({str(item).upper() for item in values[key]})  # type: ignore[attr-defined]
    return values


async def _check_references(session: AsyncSession, values: dict[str, object]) -> None:
    ticket_system_id = values.get("ticket_system_id")
    if ticket_system_id is not None:
        system = await session.get(TicketSystem, ticket_system_id)
        if system is None or system.deleted_at is not None:
            raise InvalidInput(f"no ticket system with id {ticket_system_id}", field="ticket_system_id")
    for key in ("project_lead_id", "technical_lead_id"):
        user_id = values.get(key)
        if user_id is not None:
            user = await session.get(User, user_id)
            if user is None or user.deleted_at is not None:
                raise InvalidInput(f"no user with id {user_id}", field=key)
