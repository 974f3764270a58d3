"""What handlers receive by injection: a database session per request, the caller, a page request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api.cookies import REMEMBER_COOKIE, SESSION_COOKIE, queue_login_cookies
from gateway.api.request_sessions import held_for_request
from gateway.core.auth.api_tokens import user_of_api_token
from gateway.core.auth.caller import Caller
from gateway.core.auth.sessions import resume_session
from gateway.core.db import begin_read_only, begin_statement_by_statement, commit_left_changes
from gateway.core.errors import AuthenticationFailed
from gateway.core.links import ConnectorRuntime
from gateway.core.listing import DEFAULT_LIMIT, MAX_LIMIT, PageRequest
from gateway.core.master_data.types import MAX_INT
from gateway.core.models import User
from gateway.core.plugins import ConnectorRegistry
from gateway.core.replica import ReadRouter
from gateway.core.settings import Settings
from gateway.core.sync.engine import SyncDeps
from gateway.core.ticket_check import TicketChecker
from gateway.core.ticket_search import TicketSearch
from gateway.core.vault import KeyRing

# Handlers name what they need by these aliases; the parameter name picks the dependency (Litestar's named DI).
DbSession = NamedDependency[AsyncSession]  # as `db_session`
CurrentCaller = NamedDependency[Caller]  # as `caller`
PageQuery = NamedDependency[PageRequest]  # as `page`
AppSettings = NamedDependency[Settings]  # as `settings`
SecretKeys = NamedDependency[KeyRing]  # as `key_ring`
Plugins = NamedDependency[ConnectorRegistry]  # as `registry`
Connectors = NamedDependency[ConnectorRuntime]  # as `runtime`
Tickets = NamedDependency[TicketChecker | None]  # as `tickets`
TicketFinder = NamedDependency[TicketSearch]  # as `ticket_search`
SyncMachinery = NamedDependency[SyncDeps]  # as `sync_deps`
ReportSession = NamedDependency[AsyncSession]  # as `report_session`


# Session.info key of the caller's user row (see `provide_caller`).
CALLER_ROW = "gateway_caller_row"
# Route option of a controller (or handler) whose GETs only read; see `provide_db_session`.
READS_ONLY = "gateway_reads_only"
READ_ONLY_GETS = {READS_ONLY: True}
# Route option of a handler whose statements each commit on their own (`autocommit_session`), whatever the method.
EACH_STATEMENT_COMMITS = "gateway_each_statement_commits"
STATEMENTS_ON_THEIR_OWN = {EACH_STATEMENT_COMMITS: True}


async def provide_db_session(request: Request[object, object, State], state: State) -> AsyncIterator[AsyncSession]:
    """One session and transaction per request: committed when the handler succeeds, rolled back otherwise.

    A GET of a route marked `READS_ONLY` from a caller with an API token gets an autocommit session instead (no
    transaction round trips on PostgreSQL): all it may write is the token's last use, one statement. A browser's
    session cookie may be rotated on any request, which takes several statements, so it keeps the transaction.
    """
    opt = request.route_handler.opt
    if opt.get(EACH_STATEMENT_COMMITS) or (
        request.method in ("GET", "HEAD") and opt.get(READS_ONLY) and "authorization" in request.headers
    ):
        async with held_for_request(request.scope, state.session_factory()) as session:
            await begin_statement_by_statement(session)
            yield session
            await commit_left_changes(session)
        return
    async with held_for_request(request.scope, state.session_factory()) as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        else:
            await session.commit()


async def provide_report_session(
    request: Request[object, object, State], state: State, caller: CurrentCaller
) -> AsyncIterator[AsyncSession]:
    """A read-only session for a report: on the read replica when there is one and it may serve the caller."""
    reads: ReadRouter = state.reads
    factory = await reads.factory_for(caller.user_id)
    async with held_for_request(request.scope, factory()) as session:
        await begin_read_only(session)
        yield session


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_key_ring(state: State) -> KeyRing:
    settings: Settings = state.settings
    return settings.require_key_ring()


def provide_registry(state: State) -> ConnectorRegistry:
    registry: ConnectorRegistry = state.registry
    return registry


def provide_runtime(request: Request[object, object, State], state: State) -> ConnectorRuntime:
    """What connector calls need; the public URL defaults to the address this request came to."""
    settings: Settings = state.settings
    return ConnectorRuntime(
        registry=state.registry,
        key_ring=settings.require_key_ring(),
        http=state.http,
        public_url=settings.public_url or str(request.base_url),
    )


def provide_tickets(request: Request[object, object, State], state: State) -> TicketChecker | None:
    """The ticket checker for entry writes; none without secret keys (no link can be read then)."""
    settings: Settings = state.settings
    if settings.key_ring is None:
        return None
    return TicketChecker(provide_runtime(request, state), state.coordinator)


def provide_ticket_search(request: Request[object, object, State], state: State) -> TicketSearch:
    """Ticket search for the booking form; it shares the ticket systems' request budget with the sync."""
    return TicketSearch(provide_runtime(request, state), state.coordinator)


def provide_sync_deps(state: State) -> SyncDeps:
    """The process's sync machinery (sessions, connectors, coordinator), for previews of a sync."""
    deps: SyncDeps = state.sync_deps
    return deps


async def provide_caller(request: Request[object, object, State], db_session: DbSession) -> Caller:
    """The authenticated caller: a personal API token (Authorization: Bearer) or a browser session cookie."""
    now = datetime.now(UTC)
    authorization = request.headers.get("authorization")
    user: User | None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("send a personal API token as 'Authorization: Bearer <token>'")
        user = await user_of_api_token(db_session, token.strip(), now=now)
        if user is None:
            raise AuthenticationFailed("the API token is unknown, expired or revoked")
    else:
        resumed = await resume_session(
            db_session, request.cookies.get(SESSION_COOKIE), request.cookies.get(REMEMBER_COOKIE), now=now
        )
        if resumed is None:
            raise AuthenticationFailed("not logged in: log in, or send a personal API token")
        user, issued = resumed
        if issued is not None:
            queue_login_cookies(request, issued)
    # The session's identity map holds rows weakly: keeping the caller's row for the request lets a handler that
    # reads the caller's user (GET /api/me) find it there instead of asking the database again.
    db_session.info[CALLER_ROW] = user
    return Caller(user_id=user.id, username=user.username, type=user.type)


def provide_page(
    request: Request[object, object, State],
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
    offset: Annotated[
        int, QueryParameter(ge=0, le=MAX_INT, description="Rows to skip (lists with a cursor: deprecated)")
    ] = 0,
    sort: Annotated[
        str | None,
        QueryParameter(description="Comma-separated fields; a leading '-' sorts descending, e.g. -day,start"),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset, sort=sort, offset_given="offset" in request.query_params)


DEPENDENCIES = {
    "db_session": Provide(provide_db_session),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "key_ring": Provide(provide_key_ring, sync_to_thread=False),
    "registry": Provide(provide_registry, sync_to_thread=False),
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "tickets": Provide(provide_tickets, sync_to_thread=False),
    "ticket_search": Provide(provide_ticket_search, sync_to_thread=False),
    "sync_deps": Provide(provide_sync_deps, sync_to_thread=False),
    "caller": Provide(provide_caller),
    "report_session": Provide(provide_report_session),
    "page": Provide(provide_page, sync_to_thread=False),
}
