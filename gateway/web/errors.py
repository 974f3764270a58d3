"""Errors as a browser sees them: the API's exception handlers decide the status and the message (one mapping for
both), and for a page this turns their problem details into a readable page — or, when nobody is logged in, a
redirect to the login page."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandler, ExceptionHandlersMap

from gateway.api.cookies import REMEMBER_COOKIE, SESSION_COOKIE
from gateway.api.csrf import csrf_token

# Everything else the gateway serves is a page.
NOT_PAGES = ("/api/", "/health", "/metrics", "/schema", "/static/", "/live")
MESSAGES = {
    HTTPStatus.NOT_FOUND: "This page does not exist, or it is not yours to see.",
    HTTPStatus.METHOD_NOT_ALLOWED: "This page cannot be used that way.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Something went wrong on our side. Nothing you entered was lost.",
}


def is_page(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (scripts and API clients get problem details, as from the API)."""
    return not request.url.path.startswith(NOT_PAGES) and "text/html" in request.headers.get("accept", "")


def login_url(request: Request[Any, Any, Any]) -> str:
    """The login page, coming back here afterwards (GET pages only: a form post cannot be repeated)."""
    if request.method != "GET" or request.url.path in ("/", "/login"):
        return "/login"
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?{urlencode({'next': back})}"


def error_page(
    request: Request[Any, Any, Any], status: int, detail: str | None = None, request_id: str | None = None
) -> Template:
    code = HTTPStatus(status)
    return Template(
        template_name="error.html",
        context={
            "status": status,
            "title": code.phrase,
            "message": MESSAGES.get(code) or detail or code.description,
            "request_id": request_id if status >= HTTPStatus.INTERNAL_SERVER_ERROR else None,
            # The navigation of a logged-in user's pages, without asking the database who it is.
            "signed_in": SESSION_COOKIE in request.cookies or REMEMBER_COOKIE in request.cookies,
            "csrf_token": csrf_token(request),
            "path": request.url.path,
        },
        status_code=status,
    )


def _page_or(handler: ExceptionHandler[Any]) -> ExceptionHandler[Any]:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        response: Response[Any] = handler(request, exc)
        status = response.status_code or HTTPStatus.INTERNAL_SERVER_ERROR
        if not is_page(request):
            return response
        if status == HTTPStatus.UNAUTHORIZED:
            return Redirect(login_url(request), status_code=303)
        problem: dict[str, Any] = response.content if isinstance(response.content, dict) else {}
        page = error_page(request, status, problem.get("detail"), problem.get("request_id"))
        for name in ("Retry-After",):
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handle


def pages_for_browsers(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """The same handlers, answering page requests with pages."""
    return {kind: _page_or(handler) for kind, handler in handlers.items()}
