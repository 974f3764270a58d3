"""Logging in and out with the browser session: the same core services and cookies as `POST /api/auth/login`."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from gateway.api.cookies import REMEMBER_COOKIE, SESSION_COOKIE, login_cookies, logout_cookies
from gateway.api.csrf import csrf_token
from gateway.api.dependencies import AppSettings, DbSession
from gateway.core.auth.login import log_in
from gateway.core.auth.sessions import end_session, start_session
from gateway.core.errors import AuthenticationFailed, DirectoryUnavailable, TooManyAttempts
from gateway.web.pages import NOT_STORED

HOME = "/week"


def safe_next(value: object) -> str:
    """Where to go after logging in: a path on this site only (never `//elsewhere` or `https://…`)."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text or text.startswith("/login"):
        return HOME
    return text


def _login_page(
    request: Request[Any, Any, Any],
    *,
    username: str = "",
    remember: bool = False,
    next_url: str = HOME,
    error: str | None = None,
    status_code: int = HTTPStatus.OK,
    headers: dict[str, str] | None = None,
) -> Template:
    return Template(
        template_name="login.html",
        context={
            "csrf_token": csrf_token(request),
            "username": username,
            "remember": remember,
            "next": next_url,
            "error": error,
        },
        status_code=status_code,
        headers={**NOT_STORED, **(headers or {})},
    )


def _wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"


class LoginController(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template:
        return _login_page(request, next_url=safe_next(next))

    @post("/login", status_code=HTTPStatus.SEE_OTHER)
    async def login(
        self, request: Request[Any, Any, Any], db_session: DbSession, settings: AppSettings
    ) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        remember = form.get("remember") == "on"
        again: dict[str, Any] = {"username": username, "remember": remember, "next_url": safe_next(form.get("next"))}
        if not username or not password:
            return _login_page(
                request, **again, error="Enter your username and password.", status_code=HTTPStatus.UNPROCESSABLE_ENTITY
            )
        now = datetime.now(UTC)
        address = request.client.host if request.client else "unknown"
        try:
            user = await log_in(db_session, username, password, address=address, now=now, ldap=settings.ldap)
        except AuthenticationFailed:
            return _login_page(
                request, **again, error="Wrong username or password.", status_code=HTTPStatus.UNPROCESSABLE_ENTITY
            )
        except TooManyAttempts as exc:
            return _login_page(
                request,
                **again,
                error=f"Too many failed logins. For your safety, try again in {_wait_text(exc.retry_after)}.",
                status_code=HTTPStatus.TOO_MANY_REQUESTS,
                headers={"Retry-After": str(exc.retry_after)},
            )
        except DirectoryUnavailable:
            return _login_page(
                request,
                **again,
                error="The company directory (LDAP) does not answer. Try again in a moment.",
                status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        issued = await start_session(db_session, user, remember=remember, now=now)
        return Redirect(again["next_url"], status_code=303, cookies=login_cookies(request, issued))

    @post("/logout", status_code=HTTPStatus.SEE_OTHER)
    async def logout(self, request: Request[Any, Any, Any], db_session: DbSession) -> Redirect:
        await end_session(db_session, request.cookies.get(SESSION_COOKIE), request.cookies.get(REMEMBER_COOKIE))
        return Redirect("/login", status_code=303, cookies=logout_cookies(request))
