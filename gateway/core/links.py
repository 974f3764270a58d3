"""Links: a user's connection to a ticket system.

An ADMIN enables (or disables) a user's link. The user then connects: through the tracker's OAuth page (the
`state` is bound to the user and, from a browser, to their session; PKCE where the tracker supports it), or with
an API key or personal token that is checked against the tracker before it is stored. Credentials are encrypted
before they touch the database (`secrets_at_rest`). Disconnecting revokes the grant where the tracker can and
forgets the tokens; the link and its history stay.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import httpx
import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import (
    AuthExpired,
    AuthKind,
    AuthRevoked,
    Connector,
    ConnectorContext,
    ConnectorError,
    Credentials,
    Rejected,
)
from gateway.core import metrics
from gateway.core.auth.caller import Caller
from gateway.core.auth.tokens import hash_token
from gateway.core.crud import get_one
from gateway.core.enums import SyncState
from gateway.core.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    TrackerRefused,
    TrackerUnavailable,
    reason_of,
)
from gateway.core.logs import get_logger
from gateway.core.models import Entry, Link, OAuthState, Project, TicketSystem, User
from gateway.core.permissions import require_admin
from gateway.core.plugins import ConnectorMissing, ConnectorRegistry
from gateway.core.secrets_at_rest import (
    forget_credentials,
    open_credentials,
    open_system_secrets,
    seal,
    store_credentials,
    unseal,
)
from gateway.core.sync.deferred import Deferred, typed
from gateway.core.vault import KeyRing

log = get_logger("gateway.links")
T = TypeVar("T")
OAUTH_STATE_LIFETIME = timedelta(minutes=15)
# A token this close to its expiry is reported as expiring, and refreshed before use.
EXPIRY_MARGIN = timedelta(minutes=5)


class LinkState(StrEnum):
    NOT_CONNECTED = "not connected"
    CONNECTED = "connected"
    TOKEN_EXPIRING = "token expiring"
    RECONNECT_NEEDED = "reconnect needed"
    ERROR = "error"
    CONNECTOR_MISSING = "connector missing"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    link: Link
    system: TicketSystem
    state: LinkState
    auth_kind: AuthKind | None
    pending: int
    failed: int
    conflicts: int


class ConnectRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """For API-key and personal-token connectors: the key. OAuth connectors need no body.

    Ticket systems where the gateway acts through one admin account (Redmine's "switch user") take the user's
    `login` in the tracker instead of a key; those that want both (Jira Cloud API tokens: the e-mail address as
    `login`, the token as `api_key`) take both.
    """

    api_key: str | None = None
    login: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """Either where to send the browser (OAuth) or the link, already connected (API key, token)."""

    authorization_url: str | None
    link: Link


@dataclass(frozen=True, slots=True)
class ConnectorRuntime:
    """What building a connector needs besides the ticket system: installed plugins, keys, HTTP, callback URL."""

    registry: ConnectorRegistry
    key_ring: KeyRing
    http: httpx.AsyncClient
    public_url: str

    def callback_url(self, system_id: int) -> str:
        return f"{self.public_url.rstrip('/')}/api/oauth/callback/{system_id}"


def build_connector(system: TicketSystem, runtime: ConnectorRuntime) -> Connector[Any]:
    """The ticket system's connector, with its config validated and its app-level secrets decrypted."""
    info = runtime.registry.require(system.type)
    metrics.working_for(system.type, system.id)
    try:
        config = msgspec.convert(system.config, info.connector.config_type)
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"ticket system {system.name!r} has an invalid config for {system.type}: {exc}") from None
    context = ConnectorContext(
        base_url=system.base_url.rstrip("/"),
        config=config,
        secrets=open_system_secrets(system, runtime.key_ring),
        http=runtime.http,
        redirect_uri=runtime.callback_url(system.id),
    )
    return info.connector(context)


# --- The ADMIN's side -------------------------------------------------------------------------------------------


async def set_link_enabled(session: AsyncSession, caller: Caller, user_id: int, system_id: int, enabled: bool) -> Link:
    """Enable or disable a user's link; disabling keeps tokens and history but stops syncing."""
    require_admin(caller, "enable links to ticket systems")
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound(f"user {user_id} does not exist")
    system = await live_system(session, system_id)
    link = await session.scalar(select(Link).where(Link.user_id == user.id, Link.ticket_system_id == system.id))
    if link is None:
        link = Link(user_id=user.id, ticket_system_id=system.id)
        session.add(link)
    link.enabled = enabled
    await session.flush()
    return link


# --- The user's side --------------------------------------------------------------------------------------------


async def list_my_links(
    session: AsyncSession, caller: Caller, registry: ConnectorRegistry, *, now: datetime
) -> list[LinkStatus]:
    rows = (
        await session.execute(
            select(Link, TicketSystem)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .where(
                Link.user_id == caller.user_id,
                Link.enabled.is_(True),
                TicketSystem.deleted_at.is_(None),
            )
            .order_by(TicketSystem.name)
        )
    ).all()
    counts = await _sync_counts(session, caller.user_id)
    statuses = []
    for link, system in rows:
        info = registry.get(system.type)
        by_state = counts.get(system.id, {})
        statuses.append(
            LinkStatus(
                link=link,
                system=system,
                state=link_state(link, connector_installed=info is not None, now=now),
                auth_kind=_auth_kind_of(info.connector, system) if info else None,
                pending=by_state.get(SyncState.PENDING, 0),
                failed=by_state.get(SyncState.FAILED, 0),
                conflicts=by_state.get(SyncState.CONFLICT, 0),
            )
        )
    return statuses


def _auth_kind_of(connector: type[Connector[Any]], system: TicketSystem) -> AuthKind | None:
    try:
        return connector.auth_kind_for(msgspec.convert(system.config, connector.config_type))
    except msgspec.ValidationError:
        return None


def link_state(link: Link, *, connector_installed: bool, now: datetime) -> LinkState:
    if not connector_installed:
        return LinkState.CONNECTOR_MISSING
    if link.needs_reconnect:
        return LinkState.RECONNECT_NEEDED
    if link.access_token is None:
        return LinkState.NOT_CONNECTED
    if link.last_error:
        return LinkState.ERROR
    if link.token_expires_at is not None and link.token_expires_at - now <= EXPIRY_MARGIN:
        return LinkState.TOKEN_EXPIRING
    return LinkState.CONNECTED


async def my_link(session: AsyncSession, caller: Caller, system_id: int) -> tuple[Link, TicketSystem]:
    """The caller's enabled link to a live ticket system, or `NotFound`."""
    row = (
        await session.execute(
            select(Link, TicketSystem)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .where(
                Link.user_id == caller.user_id,
                Link.ticket_system_id == system_id,
                Link.enabled.is_(True),
                TicketSystem.deleted_at.is_(None),
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"you have no enabled link to ticket system {system_id}; an ADMIN enables links")
    return row[0], row[1]


async def start_connect(
    session: AsyncSession,
    caller: Caller,
    system_id: int,
    request: ConnectRequest,
    runtime: ConnectorRuntime,
    *,
    login_session_token: str | None,
    now: datetime,
) -> ConnectResult:
    link, system = await my_link(session, caller, system_id)
    if not system.enabled:
        raise InvalidInput(f"ticket system {system.name!r} is disabled")
    connector = build_connector(system, runtime)
    auth_kind = connector.auth_kind
    if auth_kind in (AuthKind.OAUTH2, AuthKind.OAUTH1):
        state = secrets.token_urlsafe(32)
        start = await _remote(connector.authorization_url(state), "start the authorisation")
        session.add(
            OAuthState(
                state_hash=hash_token(state),
                link_id=link.id,
                login_session_hash=hash_token(login_session_token) if login_session_token else None,
                code_verifier=seal(start.code_verifier, runtime.key_ring),
                created_at=now,
                expires_at=now + OAUTH_STATE_LIFETIME,
            )
        )
        await session.flush()
        return ConnectResult(authorization_url=start.url, link=link)
    if auth_kind in (AuthKind.API_KEY, AuthKind.PERSONAL_TOKEN):
        key = (request.api_key or request.login or "").strip()
        if not key:
            raise InvalidInput(f"{system.name} connects with an API key: send it as api_key", field="api_key")
        # With both, the login goes with the key (Jira Cloud: e-mail address and API token).
        login = ((request.login or "").strip() or None) if request.api_key else None
        credentials = Credentials(access_token=key, login=login)
        try:
            account = await _remote(connector.account(credentials), "check the API key")
        except TrackerRefused:
            raise InvalidInput(f"{system.name} did not accept this API key", field="api_key") from None
        credentials.account_id = account.id
        _connected(link, credentials, account.timezone, runtime.key_ring)
        await session.flush()
        return ConnectResult(authorization_url=None, link=link)
    raise InvalidInput(f"connecting through {auth_kind.value} is not supported yet")


async def finish_oauth(
    session: AsyncSession,
    caller: Caller,
    system_id: int,
    *,
    state: str,
    code: str,
    runtime: ConnectorRuntime,
    login_session_token: str | None,
    now: datetime,
) -> Link:
    """The OAuth callback: check `state` belongs to this caller (and browser session), then exchange the code."""
    pending = await session.scalar(select(OAuthState).where(OAuthState.state_hash == hash_token(state)))
    if pending is None or pending.expires_at <= now:
        raise InvalidInput("this authorisation is unknown or has expired; start connecting again", field="state")
    await session.delete(pending)  # one use only, whatever happens next
    link, system = await my_link(session, caller, system_id)
    if pending.link_id != link.id:
        raise PermissionDenied("this authorisation was started by someone else")
    if pending.login_session_hash and (
        login_session_token is None or hash_token(login_session_token) != pending.login_session_hash
    ):
        raise PermissionDenied("this authorisation was started in another browser session")
    connector = build_connector(system, runtime)
    credentials = await _remote(
        connector.exchange_code(code, unseal(pending.code_verifier, runtime.key_ring)), "exchange the code"
    )
    account = await _remote(connector.account(credentials), "read the connected account")
    credentials.account_id = account.id
    _connected(link, credentials, account.timezone, runtime.key_ring)
    await session.flush()
    return link


async def disconnect(session: AsyncSession, caller: Caller, system_id: int, runtime: ConnectorRuntime) -> None:
    link, system = await my_link(session, caller, system_id)
    credentials = open_credentials(link, runtime.key_ring)
    if credentials is not None:
        try:
            await build_connector(system, runtime).revoke(credentials)
        except (ConnectorError, ConnectorMissing, httpx.HTTPError) as exc:
            # The tokens are forgotten here either way; the tracker may keep the grant until it expires.
            log.warning("revoking the grant failed", link_id=link.id, error=str(exc))
    forget_credentials(link)
    link.needs_reconnect = False
    link.last_error = None
    await session.flush()


def _connected(link: Link, credentials: Credentials, timezone: str | None, key_ring: KeyRing) -> None:
    credentials.timezone = timezone
    store_credentials(link, credentials, key_ring)
    link.remote_timezone = timezone
    link.needs_reconnect = False
    link.last_error = None
    link.avoid_connection = False


async def _remote(call: Awaitable[T], what: str) -> T:
    """Await a connector call; its typed outcome (as the tracker door types it) becomes an error the API answers
    with, in plain words: refused (the key, the code) or unavailable (try later)."""
    try:
        return await typed(call, what)
    except Deferred as exc:
        raise TrackerUnavailable(f"could not {exc}") from None
    except (AuthExpired, AuthRevoked, Rejected) as exc:
        raise TrackerRefused(f"could not {what}: {exc}") from None
    except (ConnectorError, httpx.HTTPError) as exc:
        raise TrackerUnavailable(f"could not {what}: {reason_of(exc)}") from None


async def live_system(session: AsyncSession, system_id: int) -> TicketSystem:
    return await get_one(
        session,
        select(TicketSystem).where(TicketSystem.id == system_id, TicketSystem.deleted_at.is_(None)),
        "ticket system",
        system_id,
    )


async def _sync_counts(session: AsyncSession, user_id: int) -> dict[int, dict[SyncState, int]]:
    rows = (
        await session.execute(
            select(Project.ticket_system_id, Entry.sync_state, func.count())
            .join(Project, Project.id == Entry.project_id)
            .where(Entry.user_id == user_id, Entry.sync_state.is_not(None), Project.ticket_system_id.is_not(None))
            .group_by(Project.ticket_system_id, Entry.sync_state)
        )
    ).all()
    counts: dict[int, dict[SyncState, int]] = {}
    for system_id, state, count in rows:
        if system_id is not None and state is not None:
            counts.setdefault(system_id, {})[state] = count
    return counts
