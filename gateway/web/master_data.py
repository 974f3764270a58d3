"""Master data pages: users, teams, customers, projects, activities, accounts, contracts, presets and holidays.

One generic page serves them all. Its script reads the API's own OpenAPI description: the form of a resource is
generated from the JSON Schema of its create (POST or PUT) and change (PATCH) bodies, so the page never has its
own copy of a field or a rule, and the API's validation errors are shown next to the fields they name. What each
resource adds here is only its list columns and which of its fields name another resource (shown as choices).

An ADMIN sees every resource; a PL the ones the API lets a PL manage (customers and projects of their teams,
activities, presets) and reads contracts; anyone else gets the 404 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Redirect, Template

from gateway.api.dependencies import CurrentCaller, DbSession
from gateway.core.auth.caller import Caller
from gateway.core.errors import NotFound
from gateway.web.pages import render


@dataclass(frozen=True, slots=True)
class Resource:
    slug: str
    title: str
    api: str
    #: The list's columns: (field of the API's answer, heading).
    columns: tuple[tuple[str, str], ...]
    #: The field that names one row in the API's paths.
    key: str = "id"
    #: How a new row is made: POST to the list, or PUT (holidays: set the holiday of a day).
    create: str = "POST"
    #: The list has a `name` search parameter.
    searchable: bool = False
    #: Readable and writable by a PL as far as the API allows (else ADMIN only).
    for_pl: bool = False


RESOURCES = {
    r.slug: r
    for r in (
        Resource(
            "users",
            "Users",
            "/api/users",
            (("username", "Username"), ("display_name", "Name"), ("type", "Role"), ("active", "Active")),
        ),
        Resource(
            "teams", "Teams", "/api/teams", (("name", "Name"), ("lead_user_id", "Lead"), ("member_ids", "Members"))
        ),
        Resource(
            "customers",
            "Customers",
            "/api/customers",
            (("name", "Name"), ("active", "Active"), ("global", "Global"), ("team_ids", "Teams")),
            searchable=True,
            for_pl=True,
        ),
        Resource(
            "projects",
            "Projects",
            "/api/projects",
            (
                ("name", "Name"),
                ("customer_id", "Customer"),
                ("ticket_prefixes", "Ticket prefixes"),
                ("active", "Active"),
            ),
            searchable=True,
            for_pl=True,
        ),
        Resource(
            "activities",
            "Activities",
            "/api/activities",
            (("name", "Name"), ("needs_ticket", "Needs a ticket"), ("factor", "Factor")),
            searchable=True,
            for_pl=True,
        ),
        Resource("accounts", "Accounts", "/api/accounts", (("name", "Name"),)),
        Resource(
            "contracts",
            "Contracts",
            "/api/contracts",
            (("user_id", "User"), ("start", "From"), ("end", "Until"), ("hours_1", "Mon"), ("hours_5", "Fri")),
            for_pl=True,
        ),
        Resource(
            "presets",
            "Presets",
            "/api/presets",
            (("name", "Name"), ("project_id", "Project"), ("activity_id", "Activity"), ("description", "Description")),
            for_pl=True,
        ),
        Resource("holidays", "Holidays", "/api/holidays", (("day", "Day"), ("name", "Name")), key="day", create="PUT"),
    )
}

# Fields that name a row of another resource: the form offers that resource's rows by name.
REFERENCES = {
    "user_id": ("/api/users", "username"),
    "lead_user_id": ("/api/users", "username"),
    "project_lead_id": ("/api/users", "username"),
    "technical_lead_id": ("/api/users", "username"),
    "member_ids": ("/api/users", "username"),
    "team_ids": ("/api/teams", "name"),
    "customer_ids": ("/api/customers", "name"),
    "customer_id": ("/api/customers", "name"),
    "project_id": ("/api/projects", "name"),
    "activity_id": ("/api/activities", "name"),
    "account_id": ("/api/accounts", "name"),
    "ticket_system_id": ("/api/ticket-systems", "name"),
}


def visible_resources(caller: Caller) -> list[Resource]:
    if caller.is_admin:
        return list(RESOURCES.values())
    if caller.is_manager:
        return [r for r in RESOURCES.values() if r.for_pl]
    return []


class MasterDataController(Controller):
    path = "/admin/data"
    include_in_schema = False

    @get("")
    async def first(self, caller: CurrentCaller) -> Redirect:
        shown = visible_resources(caller)
        if not shown:
            raise NotFound("there is no such page")
        return Redirect(f"/admin/data/{shown[0].slug}", status_code=303)

    @get("/{slug:str}")
    async def resource(
        self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession, slug: FromPath[str]
    ) -> Template:
        shown = visible_resources(caller)
        resource = RESOURCES.get(slug)
        if resource is None or resource not in shown:
            raise NotFound("there is no such page")
        return await render(
            request,
            db_session,
            caller,
            "master_data.html",
            resource=resource,
            resources=shown,
            references={
                name: {"api": api, "label": label}
                for name, (api, label) in REFERENCES.items()
                if caller.is_admin or api != "/api/ticket-systems"  # ticket systems are an ADMIN's to read
            },
        )
