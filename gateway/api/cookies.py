"""The browser session cookies: HttpOnly, SameSite=Lax, Secure when the request came over https."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.types import Message, Scope

from gateway.core.auth.sessions import REMEMBER_FOR, IssuedTokens

SESSION_COOKIE = "gw_session"
REMEMBER_COOKIE = "gw_remember"
_PENDING = "gateway_cookies_to_set"


def login_cookies(request: Request[Any, Any, Any], issued: IssuedTokens) -> list[Cookie]:
    secure = request.url.scheme == "https"
    cookies = [Cookie(key=SESSION_COOKIE, value=issued.session_token, httponly=True, samesite="lax", secure=secure)]
    if issued.remember_token is not None:
        cookies.append(
            Cookie(
                key=REMEMBER_COOKIE,
                value=issued.remember_token,
                max_age=int(REMEMBER_FOR.total_seconds()),
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        )
    return cookies


def logout_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    secure = request.url.scheme == "https"
    return [
        Cookie(key=name, value="", max_age=0, httponly=True, samesite="lax", secure=secure)
        for name in (SESSION_COOKIE, REMEMBER_COOKIE)
    ]


def queue_login_cookies(request: Request[Any, Any, Any], issued: IssuedTokens) -> None:
    """Ask `set_pending_cookies` to send new session cookies with whatever response this request gets."""
    request.scope.setdefault("state", {})[_PENDING] = login_cookies(request, issued)


async def set_pending_cookies(message: Message, scope: Scope) -> None:
    """`before_send` hook: a session renewed from a remember-me token reaches the browser on any response."""
    cookies: list[Cookie] | None = scope.get("state", {}).get(_PENDING)
    if cookies and message["type"] == "http.response.start":
        headers = list(message.get("headers", []))
        headers.extend(cookie.to_encoded_header() for cookie in cookies)
        message["headers"] = headers
