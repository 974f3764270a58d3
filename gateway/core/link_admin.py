"""The ADMIN's view of links: the users x ticket systems matrix, testing a ticket system's connection, and
requesting a sync of any user's link.

The matrix is what an ADMIN works through every day: which user may use which ticket system (the link is
enabled), and for each enabled link whether the user connected, needs to reconnect, what went wrong last and how
many entries wait to be written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import ConnectorError, Rejected
from gateway.core.auth.caller import Caller
from gateway.core.enums import SyncState
from gateway.core.errors import NotFound, reason_of
from gateway.core.links import ConnectorRuntime, LinkState, build_connector, link_state
from gateway.core.listing import MAX_LIMIT
from gateway.core.master_data.ticket_systems import get_ticket_system
from gateway.core.models import Entry, Link, Project, Team, TicketSystem, User, teams_users
from gateway.core.permissions import require_admin
from gateway.core.plugins import ConnectorRegistry
from gateway.core.sync_requests import request_sync

# How long "test connection" waits for the tracker's answer.
TEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """One user's link to one ticket system. `state` is None when the link is not enabled."""

    user_id: int
    ticket_system_id: int
    enabled: bool
    state: LinkState | None
    remote_account_id: str | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int


@dataclass(frozen=True, slots=True)
class LinkMatrix:
    users: list[User]
    systems: list[TicketSystem]
    cells: dict[tuple[int, int], MatrixCell]
    total_users: int

    def cell(self, user_id: int, system_id: int) -> MatrixCell:
        return self.cells.get(
            (user_id, system_id),
            MatrixCell(user_id, system_id, False, None, None, None, None, 0),
        )


async def link_matrix(
    session: AsyncSession,
    caller: Caller,
    registry: ConnectorRegistry,
    *,
    now: datetime,
    team_id: int | None = None,
    search: str | None = None,
    limit: int = MAX_LIMIT,
    offset: int = 0,
) -> LinkMatrix:
    """Active users (of a team, or whose name matches `search`) x live ticket systems, a page of users at a time."""
    require_admin(caller, "see every user's links")
    users_query = select(User).where(User.deleted_at.is_(None), User.active.is_(True))
    if team_id is not None:
        team = await session.scalar(select(Team).where(Team.id == team_id, Team.deleted_at.is_(None)))
        if team is None:
            raise NotFound(f"team {team_id} does not exist")
        users_query = users_query.where(
            exists().where(teams_users.c.user_id == User.id, teams_users.c.team_id == team_id)
        )
    if search:
        pattern = f"%{search.strip()}%"
        users_query = users_query.where(User.username.ilike(pattern) | User.display_name.ilike(pattern))
    total = int(await session.scalar(select(func.count()).select_from(users_query.subquery())) or 0)
    users = list(
        (await session.scalars(users_query.order_by(User.username, User.id).limit(limit).offset(offset))).all()
    )
    systems = list(
        (
            await session.scalars(
                select(TicketSystem).where(TicketSystem.deleted_at.is_(None)).order_by(TicketSystem.name)
            )
        ).all()
    )
    user_ids = [user.id for user in users]
    links = (await session.scalars(select(Link).where(Link.user_id.in_(user_ids)))).all() if user_ids else []
    pending: dict[tuple[int, int], int] = {}
    if user_ids:
        rows = await session.execute(
            select(Entry.user_id, Project.ticket_system_id, func.count())
            .join(Project, Project.id == Entry.project_id)
            .where(
                Entry.user_id.in_(user_ids),
                Entry.sync_state == SyncState.PENDING,
                Entry.deleted_at.is_(None),
                Project.ticket_system_id.is_not(None),
            )
            .group_by(Entry.user_id, Project.ticket_system_id)
        )
        pending = {(user_id, system_id or 0): count for user_id, system_id, count in rows.all()}
    installed = {system.id: registry.get(system.type) is not None for system in systems}
    cells = {
        (link.user_id, link.ticket_system_id): MatrixCell(
            user_id=link.user_id,
            ticket_system_id=link.ticket_system_id,
            enabled=link.enabled,
            state=link_state(link, connector_installed=installed.get(link.ticket_system_id, False), now=now)
            if link.enabled
            else None,
            remote_account_id=link.remote_account_id,
            last_sync_at=link.last_sync_at,
            last_error=link.last_error,
            pending=pending.get((link.user_id, link.ticket_system_id), 0),
        )
        for link in links
        if link.ticket_system_id in installed
    }
    return LinkMatrix(users=users, systems=systems, cells=cells, total_users=total)


@dataclass(frozen=True, slots=True)
class ConnectionTest:
    """How a ticket system's tracker answered: `ok`, and what it said in words."""

    ok: bool
    detail: str


async def test_connection(
    session: AsyncSession, caller: Caller, system_id: int, runtime: ConnectorRuntime
) -> ConnectionTest:
    """Let the connector check the system's config against the tracker, then ask the tracker's base URL.

    The tracker's refusal or silence is the answer, not an error: the ADMIN reads it next to the button.
    """
    system = await get_ticket_system(session, caller, system_id)
    connector = build_connector(system, runtime)
    try:
        await connector.check_config()
    except Rejected as exc:
        return ConnectionTest(False, f"{system.type} refused the config: {exc}")
    except (ConnectorError, httpx.HTTPError) as exc:
        return ConnectionTest(False, f"{system.base_url} could not check the config: {reason_of(exc)}")
    try:
        response = await runtime.http.get(system.base_url, timeout=TEST_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        return ConnectionTest(False, f"{system.base_url} does not answer: {reason_of(exc)}")
    answer = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code >= 500:
        return ConnectionTest(False, f"{system.base_url} answered {answer}")
    return ConnectionTest(True, f"{system.base_url} answered {answer}; the {system.type} connector accepts the config")


async def request_link_sync(
    session: AsyncSession, caller: Caller, user_id: int, system_id: int, *, now: datetime
) -> None:
    """Sync a user's enabled link soon (ADMIN), as the user's own "sync now" does."""
    require_admin(caller, "sync another user's link")
    link_id = await session.scalar(
        select(Link.id)
        .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
        .where(
            Link.user_id == user_id,
            Link.ticket_system_id == system_id,
            Link.enabled.is_(True),
            TicketSystem.deleted_at.is_(None),
        )
    )
    if link_id is None:
        raise NotFound(f"user {user_id} has no enabled link to ticket system {system_id}")
    await request_sync(session, [link_id], now=now)
