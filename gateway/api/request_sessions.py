"""Every database session a request opens is closed when the request ends, even when Litestar skipped its cleanup.

Litestar (2.25) resolves a handler's dependencies in batches and, when one dependency raises (a query parameter
that fails validation, say), returns the error without running the cleanup of generator dependencies that had
already started: their session is left open until garbage collection, holding a pooled connection and on SQLite
possibly the write lock. The session dependencies register here while they are open; the middleware closes
whatever is still registered once the response has been sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.logs import get_logger

log = get_logger("gateway.request")

_OPEN = "gateway_open_sessions"


@asynccontextmanager
async def held_for_request(scope: Scope, session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Hold `session` (made, not used yet) for this request and close it when the block ends.

    It is registered before its first statement and unregistered only once it closed: a dependency cancelled on
    its way (anyio cancels the rest of a batch when one dependency raises, and keeps cancelling every await in
    it) leaves it to the middleware.
    """
    held: list[AsyncSession] = scope.setdefault(_OPEN, [])  # type: ignore[misc]
    held.append(session)
    try:
        yield session
    finally:
        await session.close()
        if session in held:  # the middleware may have closed it first (a cleanup that ran only at collection)
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
