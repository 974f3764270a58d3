"""CSRF protection for the requests a browser makes with the gateway's cookies.

Double submit: a browser gets a random token in the `gw_csrf` cookie (set on any response to a request that came
without it), the pages put it in their forms (`_csrf_token`) and in the `X-CSRF-Token` header of their fetches,
and a request that changes something must repeat it. Another site can make a browser send the cookies, but cannot
read them, so it cannot repeat the token.

Checked: every POST, PUT, PATCH and DELETE to a web page (the login form included), and those to `/api` that carry
the session or remember-me cookie. Not checked: requests with an `Authorization` header (a browser never adds one
on its own, so personal API tokens cannot be forged this way) and `/api` requests without the gateway's cookies
(they act as nobody: API clients logging in, trackers posting webhooks).

Litestar's own CSRF middleware checks every unsafe request, which would refuse API clients using personal
tokens, and signs its tokens with a secret that every process would have to share; this one needs neither.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.cookies import REMEMBER_COOKIE, SESSION_COOKIE
from gateway.core.errors import PermissionDenied

CSRF_COOKIE = "gw_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_STATE_KEY = "gateway_csrf_token"
REFUSED = "the request did not carry this browser's CSRF token; reload the page and try again"


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The token the page being rendered must embed (the browser's, or the one set with this response)."""
    token: str = request.scope.get("state", {}).get(_STATE_KEY) or request.cookies.get(CSRF_COOKIE, "")
    return token


def _needs_token(request: Request[Any, Any, Any]) -> bool:
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return False
    if not request.url.path.startswith("/api/"):
        return True
    return SESSION_COOKIE in request.cookies or REMEMBER_COOKIE in request.cookies


class CSRFMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        expected = request.cookies.get(CSRF_COOKIE)
        if _needs_token(request):
            given = request.headers.get(CSRF_HEADER)
            content_type, _ = request.content_type
            if given is None and content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
                # Litestar keeps the parsed form on the scope, so the handler reads it again without the body.
                form = await request.form()
                field = form.get(CSRF_FIELD)
                given = field if isinstance(field, str) else None
            if not expected or not given or not secrets.compare_digest(expected.encode(), given.encode()):
                raise PermissionDenied(REFUSED)
        if expected or "authorization" in request.headers:
            await next_app(scope, receive, send)
            return

        token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})[_STATE_KEY] = token
        cookie = Cookie(
            key=CSRF_COOKIE, value=token, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await next_app(scope, receive, send_with_cookie)
