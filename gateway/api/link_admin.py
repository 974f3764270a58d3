"""The ADMIN's side of links: the users x ticket systems matrix, "test connection" of a ticket system, and
requesting a sync of any user's link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import QueryParameter

from gateway.api.dependencies import Connectors, CurrentCaller, DbSession, PageQuery, Plugins
from gateway.api.openapi import problems
from gateway.api.parameters import IdFilter, RowId
from gateway.api.sync import Queued
from gateway.core import link_admin


class MatrixUserOut(msgspec.Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    type: str


class MatrixSystemOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    type: str
    enabled: bool


class MatrixCellOut(msgspec.Struct, kw_only=True):
    user_id: int
    ticket_system_id: int
    enabled: bool
    # For an enabled link: not connected, connected, token expiring, reconnect needed, error, connector missing.
    state: str | None
    remote_account_id: str | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int


class LinkMatrixOut(msgspec.Struct, kw_only=True):
    """A page of users (`total`, `limit`, `offset` count users) x every ticket system; a cell per existing link
    (a pair without a cell has never been enabled)."""

    users: list[MatrixUserOut]
    ticket_systems: list[MatrixSystemOut]
    cells: list[MatrixCellOut]
    total: int
    limit: int
    offset: int


class ConnectionTestOut(msgspec.Struct, kw_only=True):
    """The tracker's answer: `ok` false says what it refused or that it did not answer."""

    ok: bool
    detail: str


class LinkAdminController(Controller):
    tags = ["links"]

    @get(
        "/api/admin/links",
        summary="Users x ticket systems: each link's enabled flag, state, last error and pending entries (ADMIN)",
        responses=problems(403),
    )
    async def matrix(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        page: PageQuery,
        team_id: IdFilter = None,
        q: Annotated[
            str | None, QueryParameter(max_length=128, description="Part of a username or display name")
        ] = None,
    ) -> LinkMatrixOut:
        found = await link_admin.link_matrix(
            db_session,
            caller,
            registry,
            now=datetime.now(UTC),
            team_id=team_id,
            search=q,
            limit=page.limit,
            offset=page.offset,
        )
        return LinkMatrixOut(
            users=[
                MatrixUserOut(id=u.id, username=u.username, display_name=u.display_name, type=u.type.value)
                for u in found.users
            ],
            ticket_systems=[
                MatrixSystemOut(id=s.id, name=s.name, type=s.type, enabled=s.enabled) for s in found.systems
            ],
            cells=[
                MatrixCellOut(
                    user_id=c.user_id,
                    ticket_system_id=c.ticket_system_id,
                    enabled=c.enabled,
                    state=c.state.value if c.state else None,
                    remote_account_id=c.remote_account_id,
                    last_sync_at=c.last_sync_at,
                    last_error=c.last_error,
                    pending=c.pending,
                )
                for c in found.cells.values()
            ],
            total=found.total_users,
            limit=page.limit,
            offset=page.offset,
        )

    @post(
        "/api/ticket-systems/{system_id:int}/test",
        summary="Test the connection: the connector checks the config with the tracker, which must answer (ADMIN)",
        status_code=200,
        responses=problems(403, 422),
    )
    async def test_connection(
        self, caller: CurrentCaller, db_session: DbSession, runtime: Connectors, system_id: RowId
    ) -> ConnectionTestOut:
        result = await link_admin.test_connection(db_session, caller, system_id, runtime)
        return ConnectionTestOut(ok=result.ok, detail=result.detail)

    @post(
        "/api/admin/sync/users/{user_id:int}/ticket-systems/{system_id:int}",
        summary="Sync a user's link now (ADMIN)",
        status_code=202,
        responses=problems(403),
    )
    async def sync_now(self, caller: CurrentCaller, db_session: DbSession, user_id: RowId, system_id: RowId) -> Queued:
        await link_admin.request_link_sync(db_session, caller, user_id, system_id, now=datetime.now(UTC))
        return Queued(status="queued")
