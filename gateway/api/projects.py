"""Projects."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import IdFilter, RowId
from gateway.core.enums import BillingType
from gateway.core.master_data import projects
from gateway.core.master_data.projects import ProjectCreate, ProjectFilter, ProjectUpdate
from gateway.core.models import Project


class ProjectOut(msgspec.Struct, kw_only=True):
    id: int
    customer_id: int
    name: str
    active: bool
    global_: bool = msgspec.field(name="global")
    ticket_system_id: int | None
    ticket_prefixes: list[str]
    subtickets: list[str]
    estimation_minutes: int | None
    offer: str | None
    billing: BillingType
    cost_center: str | None
    project_lead_id: int | None
    technical_lead_id: int | None


def project_out(project: Project) -> ProjectOut:
    return msgspec.convert(project, ProjectOut, from_attributes=True)


class ProjectController(Controller):
    path = "/api/projects"
    tags = ["projects"]
    opt = READ_ONLY_GETS

    @get("", summary="Projects the caller can see")
    async def list_projects(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        page: PageQuery,
        customer_id: IdFilter = None,
        name: Annotated[str | None, QueryParameter(description="Part of the name")] = None,
        active: FromQuery[bool | None] = None,
    ) -> PageOut[ProjectOut]:
        filters = ProjectFilter(customer_id=customer_id, name=name, active=active)
        return page_out(await projects.list_projects(db_session, caller, filters, page), project_out)

    @get("/{project_id:int}", summary="One project")
    async def get_project(self, caller: CurrentCaller, db_session: DbSession, project_id: RowId) -> ProjectOut:
        return project_out(await projects.get_project(db_session, caller, project_id))

    @post("", summary="Create a project (whoever manages its customer)", responses=problems(403, 409, 422))
    async def create_project(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[ProjectCreate]
    ) -> ProjectOut:
        return project_out(await projects.create_project(db_session, caller, data))

    @patch("/{project_id:int}", summary="Change a project", responses=problems(403, 409, 422))
    async def update_project(
        self, caller: CurrentCaller, db_session: DbSession, project_id: RowId, data: JSONBody[ProjectUpdate]
    ) -> ProjectOut:
        return project_out(await projects.update_project(db_session, caller, project_id, data))

    @delete("/{project_id:int}", summary="Delete a project (soft: its entries stay readable)", responses=problems(403))
    async def delete_project(self, caller: CurrentCaller, db_session: DbSession, project_id: RowId) -> None:
        await projects.delete_project(db_session, caller, project_id)
