"""Ticket systems as an ADMIN configures them. Secrets are write-only: stored encrypted, never read back."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import ConnectorError, Rejected
from gateway.core.auth.caller import Caller
from gateway.core.connector_types import validated_config
from gateway.core.crud import apply_changes, flush_unique, get_one, given_fields, referenced, soft_delete
from gateway.core.errors import InvalidInput, TrackerUnavailable, reason_of
from gateway.core.links import ConnectorRuntime, build_connector
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.activities import get_activity
from gateway.core.master_data.types import HTTP_URL, Id, ShortName
from gateway.core.models import TicketSystem
from gateway.core.permissions import require_admin
from gateway.core.secrets_at_rest import open_system_secrets, seal_system_secrets
from gateway.core.vault import KeyRing

ConnectorName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
Url = Annotated[str, msgspec.Meta(pattern=HTTP_URL, max_length=512)]
SecretName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class TicketSystemCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName
    type: ConnectorName
    base_url: Url
    ticket_url: Url | None = None
    enabled: bool = True
    # A ticket system is there to receive worklogs: one that only checks tickets says so with false.
    book_time: bool = True
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    secrets: dict[SecretName, str] = msgspec.field(default_factory=dict)
    # The activity of worklogs imported from the tracker; without one they are parked as unmapped.
    import_activity_id: Id | None = None


class TicketSystemUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName | msgspec.UnsetType = msgspec.UNSET
    base_url: Url | msgspec.UnsetType = msgspec.UNSET
    ticket_url: Url | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    book_time: bool | msgspec.UnsetType = msgspec.UNSET
    config: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    import_activity_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    # Merged into the stored secrets: a name with a string sets it, a name with null removes it.
    secrets: dict[SecretName, str | None] | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"name": TicketSystem.name, "id": TicketSystem.id, "type": TicketSystem.type}


def _live() -> Select[TicketSystem]:
    return select(TicketSystem).where(TicketSystem.deleted_at.is_(None))


async def list_ticket_systems(session: AsyncSession, caller: Caller, page: PageRequest) -> Page[TicketSystem]:
    require_admin(caller, "read ticket system settings")
    return await fetch_page(
        session, _live(), page, sortable=SORTABLE, default_order=[TicketSystem.name], tiebreaker=TicketSystem.id
    )


async def get_ticket_system(session: AsyncSession, caller: Caller, system_id: int) -> TicketSystem:
    require_admin(caller, "read ticket system settings")
    return await get_one(session, _live().where(TicketSystem.id == system_id), "ticket system", system_id)


async def create_ticket_system(
    session: AsyncSession, caller: Caller, data: TicketSystemCreate, runtime: ConnectorRuntime
) -> TicketSystem:
    require_admin(caller, "manage ticket systems")
    info = runtime.registry.get(data.type)
    if info is None:
        installed = ", ".join(sorted(runtime.registry.connectors)) or "none"
        raise InvalidInput(f"no connector named {data.type!r} is installed (installed: {installed})", field="type")
    _check_config(info.connector.config_type, data.config)
    _check_secret_names(info.connector.secret_names, data.secrets, data.type)
    await _check_activity(session, data.import_activity_id)
    values = msgspec.structs.asdict(data)
    secrets = values.pop("secrets")
    system = TicketSystem(**values, secrets=seal_system_secrets(secrets, runtime.key_ring))
    await check_with_tracker(system, runtime)
    session.add(system)
    await flush_unique(session, f"a ticket system named {data.name!r} already exists")
    return system


async def update_ticket_system(
    session: AsyncSession, caller: Caller, system_id: int, data: TicketSystemUpdate, runtime: ConnectorRuntime
) -> TicketSystem:
    system = await get_ticket_system(session, caller, system_id)
    values = given_fields(data)
    await _check_activity(session, values.get("import_activity_id"))
    key_ring = runtime.key_ring
    if "config" in values:
        info = runtime.registry.get(system.type)
        if info is None:
            raise InvalidInput(
                f"the connector {system.type!r} is not installed; its config cannot be checked", field="config"
            )
        _check_config(info.connector.config_type, values["config"])
    if "secrets" in values:
        info = runtime.registry.get(system.type)
        if info is None:
            raise InvalidInput(
                f"the connector {system.type!r} is not installed; its secrets cannot be checked", field="secrets"
            )
        _check_secret_names(info.connector.secret_names, values["secrets"], system.type)
        merged = {**open_system_secrets(system, key_ring), **values.pop("secrets")}
        system.secrets = seal_system_secrets(
            {name: value for name, value in merged.items() if value is not None}, key_ring
        )
    apply_changes(system, values)
    if {"config", "secrets", "base_url"} & given_fields(data).keys():
        await check_with_tracker(system, runtime)
    await flush_unique(session, f"a ticket system named {system.name!r} already exists")
    return system


async def delete_ticket_system(session: AsyncSession, caller: Caller, system_id: int) -> None:
    soft_delete(await get_ticket_system(session, caller, system_id))
    await session.flush()


async def check_with_tracker(system: TicketSystem, runtime: ConnectorRuntime) -> None:
    """Let the connector check the config against the tracker (e.g. that mapped activities exist there)."""
    connector = build_connector(system, runtime)
    try:
        await connector.check_config()
    except Rejected as exc:
        raise InvalidInput(f"{system.type} refused the config: {exc}", field="config") from None
    except (ConnectorError, httpx.HTTPError) as exc:
        raise TrackerUnavailable(f"could not check the config with {system.base_url}: {reason_of(exc)}") from None


async def _check_activity(session: AsyncSession, activity_id: int | None) -> None:
    if activity_id is not None:
        await referenced(get_activity(session, activity_id), "import_activity_id")


def _check_config(config_type: type[msgspec.Struct], config: dict[str, Any]) -> None:
    validated_config(config_type, config)


def _check_secret_names(declared: tuple[str, ...], given: dict[str, Any], connector: str) -> None:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise InvalidInput(
            f"the {connector} connector has no secret named {', '.join(map(repr, unknown))} (its secrets: {known})",
            field="secrets",
        )


def secret_names(system: TicketSystem, key_ring: KeyRing) -> list[str]:
    return sorted(open_system_secrets(system, key_ring))
