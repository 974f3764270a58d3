"""Logging in and out, the caller's own account, and personal API tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from gateway.api.cookies import REMEMBER_COOKIE, SESSION_COOKIE, login_cookies, logout_cookies
from gateway.api.dependencies import READ_ONLY_GETS, AppSettings, CurrentCaller, DbSession
from gateway.api.openapi import problems
from gateway.api.parameters import RowId
from gateway.core.auth import api_tokens
from gateway.core.auth.api_tokens import ApiTokenCreate
from gateway.core.auth.login import log_in
from gateway.core.auth.sessions import end_session, start_session
from gateway.core.enums import UserType
from gateway.core.models import ApiToken, User
from gateway.core.users import get_user


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    remember: bool = False


class MeOut(msgspec.Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    email: str | None
    type: UserType
    locale: str


class ApiTokenOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut, kw_only=True):
    """The new token; `token` is shown this once and cannot be read again."""

    token: str


def me_out(user: User) -> MeOut:
    return msgspec.convert(user, MeOut, from_attributes=True)


def token_out(row: ApiToken) -> ApiTokenOut:
    return msgspec.convert(row, ApiTokenOut, from_attributes=True)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/login",
        summary="Log in with a username and password; sets the session cookie",
        status_code=200,
        responses=problems(401, 429, 503),
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
    ) -> Response[MeOut]:
        now = datetime.now(UTC)
        address = request.client.host if request.client else "unknown"
        user = await log_in(db_session, data.username, data.password, address=address, now=now, ldap=settings.ldap)
        issued = await start_session(db_session, user, remember=data.remember, now=now)
        return Response(me_out(user), cookies=login_cookies(request, issued))

    @post(
        "/logout",
        summary="End the browser session and forget the remember-me token",
        status_code=204,
        responses={204: ResponseSpec(None, description="Logged out (also when no session was open)")},
    )
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Response[None]:
        await end_session(db_session, request.cookies.get(SESSION_COOKIE), request.cookies.get(REMEMBER_COOKIE))
        return Response(None, status_code=204, cookies=logout_cookies(request))


class MeController(Controller):
    path = "/api/me"
    tags = ["me"]
    opt = READ_ONLY_GETS

    @get("", summary="The logged-in user")
    async def me(self, caller: CurrentCaller, db_session: DbSession) -> MeOut:
        return me_out(await get_user(db_session, caller.user_id))

    @get("/tokens", summary="The caller's personal API tokens (never the tokens themselves)")
    async def list_tokens(self, caller: CurrentCaller, db_session: DbSession) -> list[ApiTokenOut]:
        return [token_out(row) for row in await api_tokens.list_api_tokens(db_session, caller)]

    @post("/tokens", summary="Create a personal API token; the response shows it once", responses=problems(422))
    async def create_token(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[ApiTokenCreate]
    ) -> ApiTokenCreated:
        row, token = await api_tokens.create_api_token(db_session, caller, data, now=datetime.now(UTC))
        return ApiTokenCreated(**msgspec.structs.asdict(token_out(row)), token=token)

    @delete("/tokens/{token_id:int}", summary="Revoke a personal API token")
    async def revoke_token(self, caller: CurrentCaller, db_session: DbSession, token_id: RowId) -> None:
        await api_tokens.revoke_api_token(db_session, caller, token_id, now=datetime.now(UTC))
