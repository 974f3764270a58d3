"""The installed ticket-system types: each connector's auth modes, capabilities, secret names and config schema.

A connector's config is a msgspec struct; its JSON Schema (`msgspec.json.schema`) is published here so that
anything outside Python (the web UI's admin form, an API client) can render and check a ticket system's config.
The gateway validates with the struct itself (`validated_config`), which also runs the struct's own checks, and
names the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.connectors import AuthKind, Capability
from gateway.core.auth.caller import Caller
from gateway.core.errors import InvalidInput, NotFound
from gateway.core.permissions import require_admin
from gateway.core.plugins import ConnectorInfo, ConnectorRegistry

_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`$")


@dataclass(frozen=True, slots=True)
class AuthMode:
    name: str
    kind: AuthKind


@dataclass(frozen=True, slots=True)
class ConnectorType:
    name: str
    distribution: str | None
    version: str | None
    auth_modes: list[AuthMode]
    #: The config field that chooses the auth mode (None: the connector has one).
    auth_mode_field: str | None
    capabilities: list[Capability]
    secret_names: list[str]
    config_schema: dict[str, Any]


def config_schema(config_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema of a config struct, the struct's own object schema at the top (nested structs in `$defs`)."""
    (reference,), components = msgspec.json.schema_components([config_type], ref_template="#/$defs/{name}")
    name = str(reference["$ref"]).rsplit("/", 1)[1]
    schema = dict(components.pop(name))
    if components:
        schema["$defs"] = components
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def describe(info: ConnectorInfo) -> ConnectorType:
    connector = info.connector
    return ConnectorType(
        name=info.name,
        distribution=info.distribution,
        version=info.version,
        auth_modes=[AuthMode(name, kind) for name, kind in connector.auth_modes.items()],
        auth_mode_field=connector.auth_mode_field,
        capabilities=info.capabilities,
        secret_names=list(connector.secret_names),
        config_schema=config_schema(connector.config_type),
    )


def list_connector_types(caller: Caller, registry: ConnectorRegistry) -> list[ConnectorType]:
    require_admin(caller, "read the ticket-system types")
    return [describe(info) for _name, info in sorted(registry.connectors.items())]


def get_connector_type(caller: Caller, registry: ConnectorRegistry, name: str) -> ConnectorType:
    require_admin(caller, "read the ticket-system types")
    info = registry.get(name)
    if info is None:
        raise NotFound(f"no connector named {name!r} is installed")
    return describe(info)


def validated_config(config_type: type[msgspec.Struct], config: dict[str, Any]) -> msgspec.Struct:
    """`config` as the connector's struct, or `InvalidInput` naming the field at fault (`config.<field>`)."""
    try:
        return msgspec.convert(config, config_type)
    except msgspec.ValidationError as exc:
        message = str(exc)
        located = _AT_PATH.search(message)
        if located:
            path = located.group(1).replace("[...]", "").replace("[", ".").replace("]", "")
            field = f"config.{path}" if path else "config"
            message = message[: located.start()]
        else:
            named = _NAMED_FIELD.match(message)
            field = f"config.{named.group(1)}" if named else "config"
        raise InvalidInput(f"invalid config: {message}", field=field) from None
