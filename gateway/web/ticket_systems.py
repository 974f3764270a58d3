""" "My ticket systems": the caller's links (connect, reconnect, disconnect, last sync and its error, sync now) and
the conflict queue (both versions side by side; keep mine or take theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api.dependencies import CurrentCaller, DbSession, Plugins
from gateway.connectors import AuthKind
from gateway.core.auth.caller import Caller
from gateway.core.links import LinkState, LinkStatus, list_my_links
from gateway.core.plugins import ConnectorRegistry
from gateway.core.sync import conflicts
from gateway.core.sync.conflicts import Conflict
from gateway.core.sync.status import LinkSyncStatus, lease_alive, my_sync_status
from gateway.web.pages import fragment, render

# The snapshot fields of a conflict, in the order and with the names the queue shows them.
CONFLICT_FIELDS = (
    ("day", "Day"),
    ("start", "Start"),
    ("minutes", "Minutes"),
    ("ticket", "Ticket"),
    ("description", "Description"),
)


@dataclass(frozen=True, slots=True)
class LinkCard:
    status: LinkStatus
    sync: LinkSyncStatus | None

    @property
    def oauth(self) -> bool:
        return self.status.auth_kind in (AuthKind.OAUTH2, AuthKind.OAUTH1)

    @property
    def connected(self) -> bool:
        return self.status.link.access_token is not None and not self.status.link.needs_reconnect

    @property
    def can_connect(self) -> bool:
        return self.status.state is not LinkState.CONNECTOR_MISSING and self.status.system.enabled

    @property
    def running(self) -> bool:
        # A live lease: one a killed worker left behind lapses and no longer counts.
        return lease_alive(self.status.link, datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Panel:
    cards: list[LinkCard]
    conflicts: list[Conflict]
    names: dict[int, str]


async def panel(session: AsyncSession, caller: Caller, registry: ConnectorRegistry) -> Panel:
    links = await list_my_links(session, caller, registry, now=datetime.now(UTC))
    syncs = {item.system.id: item for item in await my_sync_status(session, caller)}
    found = await conflicts.my_conflicts(session, caller)
    return Panel(
        cards=[LinkCard(link, syncs.get(link.system.id)) for link in links],
        conflicts=found,
        names={link.system.id: link.system.name for link in links},
    )


class TicketSystemsController(Controller):
    include_in_schema = False

    @get("/ticket-systems")
    async def ticket_systems(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        registry: Plugins,
        ticket_system: FromQuery[int | None] = None,
        status: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Template:
        shown = await panel(db_session, caller, registry)
        outcome = None
        if ticket_system is not None and status in ("connected", "failed"):
            name = shown.names.get(ticket_system, f"ticket system {ticket_system}")
            outcome = {
                "ok": status == "connected",
                "text": f"{name} is connected."
                if status == "connected"
                else f"Connecting {name} failed: {reason or 'no reason given'}",
            }
        return await render(
            request, db_session, caller, "ticket_systems.html", panel=shown, outcome=outcome, fields=CONFLICT_FIELDS
        )

    @get("/ticket-systems/panel")
    async def ticket_systems_panel(self, caller: CurrentCaller, db_session: DbSession, registry: Plugins) -> Template:
        return fragment(
            "ticket_systems_panel.html", panel=await panel(db_session, caller, registry), fields=CONFLICT_FIELDS
        )
