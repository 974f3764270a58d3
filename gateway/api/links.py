"""Links to ticket systems: the ADMIN enables them, users connect and disconnect, trackers call back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from gateway.api.cookies import SESSION_COOKIE
from gateway.api.dependencies import Connectors, CurrentCaller, DbSession, Plugins
from gateway.api.openapi import problems
from gateway.api.parameters import RowId
from gateway.core import links
from gateway.core.errors import GatewayError
from gateway.core.links import ConnectRequest, LinkStatus

# The web UI's page that tells the user how connecting went.
RESULT_PAGE = "/ticket-systems"


class LinkEnable(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    enabled: bool


class LinkOut(msgspec.Struct, kw_only=True):
    user_id: int
    ticket_system_id: int
    enabled: bool


class MyLinkOut(msgspec.Struct, kw_only=True):
    ticket_system_id: int
    ticket_system: str
    type: str
    auth_kind: str | None
    # False: entries on this system's projects are not pushed as worklogs (the system only checks tickets).
    book_time: bool
    state: str
    remote_account_id: str | None
    token_expires_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    pending: int
    failed: int
    conflicts: int


class ConnectOut(msgspec.Struct, kw_only=True):
    """For OAuth: send the browser to `authorization_url`. Otherwise the link is connected already."""

    state: str
    authorization_url: str | None = None


def my_link_out(status: LinkStatus) -> MyLinkOut:
    return MyLinkOut(
        ticket_system_id=status.system.id,
        ticket_system=status.system.name,
        type=status.system.type,
        auth_kind=status.auth_kind.value if status.auth_kind else None,
        book_time=status.system.book_time,
        state=status.state.value,
        remote_account_id=status.link.remote_account_id,
        token_expires_at=status.link.token_expires_at,
        last_sync_at=status.link.last_sync_at,
        last_error=status.link.last_error,
        pending=status.pending,
        failed=status.failed,
        conflicts=status.conflicts,
    )


class UserLinkController(Controller):
    path = "/api/users/{user_id:int}/ticket-systems"
    tags = ["links"]

    @put(
        "/{system_id:int}",
        summary="Enable or disable a user's link to a ticket system (ADMIN)",
        responses=problems(403, 422),
    )
    async def set_enabled(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        user_id: RowId,
        system_id: RowId,
        data: JSONBody[LinkEnable],
    ) -> LinkOut:
        link = await links.set_link_enabled(db_session, caller, user_id, system_id, data.enabled)
        return LinkOut(user_id=link.user_id, ticket_system_id=link.ticket_system_id, enabled=link.enabled)


class MyLinkController(Controller):
    path = "/api/me/ticket-systems"
    tags = ["links"]

    @get("", summary="The caller's links: state, last sync, and counts of pending, failed and conflicting entries")
    async def list_links(self, caller: CurrentCaller, db_session: DbSession, registry: Plugins) -> list[MyLinkOut]:
        found = await links.list_my_links(db_session, caller, registry, now=datetime.now(UTC))
        return [my_link_out(status) for status in found]

    @post(
        "/{system_id:int}/connect",
        summary="Connect: an OAuth authorisation URL, or check and store an API key",
        responses=problems(409, 422, 502, 503),
    )
    async def connect(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        runtime: Connectors,
        system_id: RowId,
        data: JSONBody[ConnectRequest | None] = None,
    ) -> ConnectOut:
        result = await links.start_connect(
            db_session,
            caller,
            system_id,
            data or ConnectRequest(),
            runtime,
            login_session_token=request.cookies.get(SESSION_COOKIE),
            now=datetime.now(UTC),
        )
        if result.authorization_url is not None:
            return ConnectOut(state="authorising", authorization_url=result.authorization_url)
        return ConnectOut(state="connected")

    @delete(
        "/{system_id:int}",
        summary="Disconnect: revoke the grant where the tracker can, and forget the tokens",
        responses=problems(503),
    )
    async def disconnect(
        self, caller: CurrentCaller, db_session: DbSession, runtime: Connectors, system_id: RowId
    ) -> None:
        await links.disconnect(db_session, caller, system_id, runtime)


class OAuthCallbackController(Controller):
    path = "/api/oauth"
    tags = ["links"]

    @get(
        "/callback/{system_id:int}",
        summary="Where the tracker sends the browser back after authorising; redirects to a page saying how it went",
        status_code=303,
    )
    async def callback(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        db_session: DbSession,
        runtime: Connectors,
        system_id: RowId,
        # "state" is a reserved parameter name in Litestar (the app state), hence the alias.
        oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
        code: FromQuery[str | None] = None,
        oauth_verifier: Annotated[str | None, QueryParameter(description="OAuth 1.0a: the verifier")] = None,
        error: FromQuery[str | None] = None,
    ) -> Redirect:
        # OAuth 1.0a providers (Jira Data Center) send a verifier where OAuth 2 sends a code.
        code = code or oauth_verifier
        if error or not oauth_state or not code:
            return _result(system_id, "failed", f"the tracker did not authorise: {error or 'no code'}")
        try:
            await links.finish_oauth(
                db_session,
                caller,
                system_id,
                state=oauth_state,
                code=code,
                runtime=runtime,
                login_session_token=request.cookies.get(SESSION_COOKIE),
                now=datetime.now(UTC),
            )
        except GatewayError as exc:
            # The browser lands on a page, not on a JSON problem; the state row is gone either way.
            await db_session.commit()
            return _result(system_id, "failed", str(exc))
        return _result(system_id, "connected", None)


def _result(system_id: int, status: str, reason: str | None) -> Redirect:
    """Back to the web UI's "My ticket systems" page, which says how connecting went."""
    query = {"ticket_system": system_id, "status": status, **({"reason": reason} if reason else {})}
    return Redirect(f"{RESULT_PAGE}?{urlencode(query)}", status_code=303)
