"""Every database session a request opens is closed when the request ends, even when Litestar skipped its cleanup.

Litestar (2.25) resolves a handler's dependencies in batches and, when one dependency raises (a query parameter
that fails validation, say), returns the error without running the cleanup of generator dependencies that had
already started: their session is left open until garbage collection, holding a pooled connection and on SQLite
possibly the write lock. The session dependencies register here while they are open; the middleware closes
whatever is still registered once the response has been sent.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.logs import get_logger

log = get_logger("gateway.request")

_OPEN = "gateway_open_sessions"


def hold(scope: Scope, session: AsyncSession) -> AsyncSession:
    """Register `session` (made, not used yet) as open for this request; `release` it once closed.

    A session is unregistered only after it closed: a dependency cancelled or abandoned on its way leaves it to
    the middleware. (The dependencies use plain try/finally, not generator-based context managers: a generator
    Litestar abandoned is finalised when collected, and each nested generator would be closed on its own then.)
    """
    held: list[AsyncSession] = scope.setdefault(_OPEN, [])  # type: ignore[misc]
    held.append(session)
    return session


def release(scope: Scope, session: AsyncSession) -> None:
    held: list[AsyncSession] = scope.get(_OPEN, [])  # type: ignore[assignment]
    if session in held:  # the middleware may have closed it first
        held.remove(session)


def close_left_sessions_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            left: list[AsyncSession] = scope.get(_OPEN, [])  # type: ignore[assignment]
            for session in list(left):
                left.remove(session)
                log.debug("closing a session whose dependency cleanup did not run", path=scope.get("path"))
                await session.close()  # rolls back: the request failed before its handler ran

    return middleware
