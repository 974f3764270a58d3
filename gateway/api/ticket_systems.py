"""Ticket systems (ADMIN). Secrets are write-only: responses name the secrets that are set, never their values."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from gateway.api.dependencies import Connectors, CurrentCaller, DbSession, PageQuery, Plugins, SecretKeys
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import RowId
from gateway.core.master_data import ticket_systems
from gateway.core.master_data.ticket_systems import TicketSystemCreate, TicketSystemUpdate
from gateway.core.models import TicketSystem
from gateway.core.plugins import ConnectorRegistry
from gateway.core.vault import KeyRing


class TicketSystemOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    type: str
    base_url: str
    ticket_url: str | None
    enabled: bool
    book_time: bool
    config: dict[str, Any]
    import_activity_id: int | None
    secret_names: list[str]
    # "installed", or "missing" when no installed connector has this type's name.
    connector: str


def system_out(system: TicketSystem, key_ring: KeyRing, registry: ConnectorRegistry) -> TicketSystemOut:
    return TicketSystemOut(
        id=system.id,
        name=system.name,
        type=system.type,
        base_url=system.base_url,
        ticket_url=system.ticket_url,
        enabled=system.enabled,
        book_time=system.book_time,
        config=system.config,
        import_activity_id=system.import_activity_id,
        secret_names=ticket_systems.secret_names(system, key_ring),
        connector="installed" if registry.get(system.type) else "missing",
    )


class TicketSystemController(Controller):
    path = "/api/ticket-systems"
    tags = ["ticket systems"]

    @get("", summary="Ticket systems (ADMIN)", responses=problems(403))
    async def list_systems(
        self, caller: CurrentCaller, db_session: DbSession, page: PageQuery, key_ring: SecretKeys, registry: Plugins
    ) -> PageOut[TicketSystemOut]:
        found = await ticket_systems.list_ticket_systems(db_session, caller, page)
        return page_out(found, lambda system: system_out(system, key_ring, registry))

    @get("/{system_id:int}", summary="One ticket system (ADMIN)", responses=problems(403))
    async def get_system(
        self, caller: CurrentCaller, db_session: DbSession, system_id: RowId, key_ring: SecretKeys, registry: Plugins
    ) -> TicketSystemOut:
        return system_out(await ticket_systems.get_ticket_system(db_session, caller, system_id), key_ring, registry)

    @post(
        "",
        summary="Create a ticket system (ADMIN); secrets are stored encrypted",
        responses=problems(403, 409, 422, 502, 503),
    )
    async def create_system(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        data: JSONBody[TicketSystemCreate],
        runtime: Connectors,
    ) -> TicketSystemOut:
        system = await ticket_systems.create_ticket_system(db_session, caller, data, runtime)
        return system_out(system, runtime.key_ring, runtime.registry)

    @patch(
        "/{system_id:int}",
        summary="Change a ticket system (ADMIN); secrets merge, null removes one",
        responses=problems(403, 409, 422, 502, 503),
    )
    async def update_system(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        system_id: RowId,
        data: JSONBody[TicketSystemUpdate],
        runtime: Connectors,
    ) -> TicketSystemOut:
        system = await ticket_systems.update_ticket_system(db_session, caller, system_id, data, runtime)
        return system_out(system, runtime.key_ring, runtime.registry)

    @delete("/{system_id:int}", summary="Delete a ticket system (soft; ADMIN)", responses=problems(403))
    async def delete_system(self, caller: CurrentCaller, db_session: DbSession, system_id: RowId) -> None:
        await ticket_systems.delete_ticket_system(db_session, caller, system_id)
