"""`Allow` on OPTIONS answers: every method the path serves.

Litestar 2 builds the OPTIONS answer for the first handler registered on a path, so a path with GET, PATCH and
DELETE handlers answered `Allow: DELETE, OPTIONS` (fixed only in Litestar 3). Its router knows the whole set: it
names it in the `Allow` of a 405, which is what this asks for.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

# A method no handler serves, so the router answers with the path's full `Allow`.
_UNSERVED = "TRACE"


def allowed_methods(app: Litestar, path: str) -> str | None:
    try:
        app.asgi_router.handle_routing(path=path, method=_UNSERVED)
    except MethodNotAllowedException as exc:
        allow: str | None = (exc.headers or {}).get("allow")
        return allow
    except NotFoundException:
        return None
    return None


def complete_allow_on_options(app: Litestar, handler: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await handler(scope, receive, send)
            return
        allow = allowed_methods(app, scope["path"])

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and allow is not None:
                headers: list[Any] = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                headers.append((b"allow", allow.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await handler(scope, receive, send_with_allow)

    return wrapped
