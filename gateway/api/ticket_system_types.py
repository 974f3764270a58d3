"""The installed ticket-system types (ADMIN): what each connector needs to create a ticket system of its type."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import PathParameter

from gateway.api.dependencies import CurrentCaller, Plugins
from gateway.api.openapi import problems
from gateway.core import connector_types
from gateway.core.connector_types import ConnectorType

TypeName = Annotated[str, PathParameter(pattern=r"^[a-z][a-z0-9_-]{0,63}$", description="A connector's name")]


class AuthModeOut(msgspec.Struct, kw_only=True):
    #: The value of the config's auth-mode field that chooses this mode.
    name: str
    #: How users connect in this mode: oauth2, oauth1, api_key or personal_token.
    kind: str


class TicketSystemTypeOut(msgspec.Struct, kw_only=True):
    """A connector, as a ticket system's `type`: how to configure one, and what it can do."""

    name: str
    distribution: str | None
    version: str | None
    auth_modes: list[AuthModeOut]
    auth_mode_field: str | None
    capabilities: list[str]
    secret_names: list[str]
    config_schema: dict[str, Any]


def type_out(item: ConnectorType) -> TicketSystemTypeOut:
    return TicketSystemTypeOut(
        name=item.name,
        distribution=item.distribution,
        version=item.version,
        auth_modes=[AuthModeOut(name=mode.name, kind=mode.kind.value) for mode in item.auth_modes],
        auth_mode_field=item.auth_mode_field,
        capabilities=[capability.value for capability in item.capabilities],
        secret_names=item.secret_names,
        config_schema=item.config_schema,
    )


class TicketSystemTypeController(Controller):
    path = "/api/ticket-system-types"
    tags = ["ticket systems"]

    @get(
        "",
        summary="Installed connectors: auth modes, capabilities, secret names and config JSON Schema (ADMIN)",
        responses=problems(403),
    )
    async def list_types(self, caller: CurrentCaller, registry: Plugins) -> list[TicketSystemTypeOut]:
        return [type_out(item) for item in connector_types.list_connector_types(caller, registry)]

    @get("/{name:str}", summary="One installed connector (ADMIN)", responses=problems(403))
    async def get_type(self, caller: CurrentCaller, registry: Plugins, name: TypeName) -> TicketSystemTypeOut:
        return type_out(connector_types.get_connector_type(caller, registry, name))
