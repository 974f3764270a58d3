"""The ADMIN's pages: ticket systems (their connectors' config forms), the users x ticket systems link matrix,
the sync overview and the installed plugins.

Every page here is the 404 page for anyone but an ADMIN, exactly as for a page that does not exist. The pages
read through core services; changes go through the JSON API from the pages' scripts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api.dependencies import Connectors, CurrentCaller, DbSession, Plugins
from gateway.api.parameters import RowId
from gateway.connectors import Capability
from gateway.core import connector_types
from gateway.core.auth.caller import Caller
from gateway.core.errors import NotFound
from gateway.core.link_admin import link_matrix
from gateway.core.links import ConnectorRuntime
from gateway.core.listing import MAX_LIMIT
from gateway.core.master_data.activities import list_activities
from gateway.core.master_data.teams import list_teams
from gateway.core.master_data.ticket_systems import get_ticket_system, list_ticket_systems
from gateway.core.models import TicketSystem
from gateway.core.plugins import ConnectorRegistry
from gateway.core.reports.sync_report import sync_status_report
from gateway.core.sync.status import all_sync_status
from gateway.web.pages import fragment, render
from gateway.web.week_view import _all

MATRIX_PAGE = 50


def admin_only(caller: Caller) -> None:
    """Anyone but an ADMIN gets the 404 page: an admin page is not there for them."""
    if not caller.is_admin:
        raise NotFound("there is no such page")


def webhook_url(runtime: ConnectorRuntime, system: TicketSystem) -> str:
    """The address to paste into the tracker's webhook settings."""
    return f"{runtime.public_url.rstrip('/')}/api/webhooks/{system.id}"


def takes_webhooks(registry: ConnectorRegistry, system: TicketSystem) -> bool:
    info = registry.get(system.type)
    return info is not None and Capability.WEBHOOKS in info.connector.capabilities


class AdminController(Controller):
    path = "/admin"
    include_in_schema = False

    @get("")
    async def admin_home(self, caller: CurrentCaller) -> Redirect:
        admin_only(caller)
        return Redirect("/admin/links", status_code=303)

    # --- Ticket systems ---------------------------------------------------------------------------------------

    @get("/ticket-systems")
    async def ticket_systems(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        runtime: Connectors,
    ) -> Template:
        admin_only(caller)
        systems = await _all(lambda page: list_ticket_systems(db_session, caller, page))
        return await render(
            request,
            db_session,
            caller,
            "admin/ticket_systems.html",
            systems=systems,
            installed={s.id: registry.get(s.type) is not None for s in systems},
            webhooks={s.id: webhook_url(runtime, s) for s in systems if takes_webhooks(registry, s)},
        )

    @get("/ticket-systems/new")
    async def new_ticket_system(
        self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession
    ) -> Template:
        admin_only(caller)
        return await _system_form(request, db_session, caller, None, None)

    @get("/ticket-systems/{system_id:int}")
    async def ticket_system(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        runtime: Connectors,
        system_id: RowId,
    ) -> Template:
        admin_only(caller)
        system = await get_ticket_system(db_session, caller, system_id)
        hook = webhook_url(runtime, system) if takes_webhooks(registry, system) else None
        return await _system_form(request, db_session, caller, system, hook)

    # --- Links and sync ---------------------------------------------------------------------------------------

    @get("/links")
    async def links(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        team: FromQuery[int | None] = None,
        q: FromQuery[str | None] = None,
        offset: FromQuery[int] = 0,
    ) -> Template:
        admin_only(caller)
        context = await _matrix_context(db_session, caller, registry, team, q, offset)
        teams = await _all(lambda page: list_teams(db_session, caller, page))
        return await render(request, db_session, caller, "admin/links.html", teams=teams, **context)

    @get("/links/matrix")
    async def links_matrix(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        team: FromQuery[int | None] = None,
        q: FromQuery[str | None] = None,
        offset: FromQuery[int] = 0,
    ) -> Template:
        admin_only(caller)
        return fragment(
            "admin/links_matrix.html", **await _matrix_context(db_session, caller, registry, team, q, offset)
        )

    @get("/sync")
    async def sync(self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession) -> Template:
        admin_only(caller)
        return await render(request, db_session, caller, "admin/sync.html", **await _sync_context(db_session, caller))

    @get("/sync/table")
    async def sync_table(self, caller: CurrentCaller, db_session: DbSession) -> Template:
        admin_only(caller)
        return fragment("admin/sync_table.html", **await _sync_context(db_session, caller))

    # --- Plugins ----------------------------------------------------------------------------------------------

    @get("/plugins")
    async def plugins(
        self, request: Request[Any, Any, Any], caller: CurrentCaller, db_session: DbSession, registry: Plugins
    ) -> Template:
        admin_only(caller)
        types = connector_types.list_connector_types(caller, registry)
        return await render(request, db_session, caller, "admin/plugins.html", types=types, problems=registry.problems)


async def _sync_context(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    """Every enabled link's sync, with the day and time of its oldest pending entry."""
    oldest = {
        (row.user_id, row.ticket_system_id): row.oldest_pending_at
        for row in await sync_status_report(session, caller)
        if row.oldest_pending_at is not None
    }
    return {"rows": await all_sync_status(session, caller), "oldest": oldest, "now": datetime.now(UTC)}


async def _system_form(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    caller: Caller,
    system: TicketSystem | None,
    hook: str | None,
) -> Template:
    activities = await _all(lambda page: list_activities(session, None, page))
    return await render(
        request, session, caller, "admin/ticket_system.html", system=system, webhook=hook, activities=activities
    )


async def _matrix_context(
    session: AsyncSession,
    caller: Caller,
    registry: ConnectorRegistry,
    team: int | None,
    search: str | None,
    offset: int,
) -> dict[str, Any]:
    offset = max(0, offset)
    matrix = await link_matrix(
        session,
        caller,
        registry,
        now=datetime.now(UTC),
        team_id=team,
        search=search,
        limit=MATRIX_PAGE,
        offset=offset,
    )
    return {
        "matrix": matrix,
        "team": team,
        "q": search or "",
        "offset": offset,
        "page_size": MATRIX_PAGE,
        "max_limit": MAX_LIMIT,
    }
