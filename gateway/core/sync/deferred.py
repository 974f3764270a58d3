"""The one way a sync says "not now": the runner retries after `retry_after` seconds, or after a backoff."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import httpx

from gateway.connectors import RateLimited, Transient

T = TypeVar("T")


class Deferred(Exception):
    """Stop now and run again later: after `retry_after` seconds, or after a backoff of the runner's choice."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RunAgain(Deferred):
    """Not a failure: more is waiting (a sync asked for while this one ran, the next pages of a long pull). The
    runner starts the job again at once, as a new job: a chain of bounded jobs, none near the job timeout."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retry_after=0)


def deferred_from(exc: BaseException, what: str) -> Deferred | None:
    """The `Deferred` a failure means, or None when it is not one that passes with time."""
    if isinstance(exc, RateLimited):
        return Deferred(f"{what}: {exc}", exc.retry_after)
    if isinstance(exc, Transient):
        return Deferred(f"{what}: {exc}")
    if isinstance(exc, httpx.TransportError | TimeoutError):
        # A connector that let the transport's error through: the tracker did not answer.
        return Deferred(f"{what}: the tracker did not answer ({type(exc).__name__})")
    return None


async def typed(call: Awaitable[T], what: str) -> T:
    """Await one connector call, turning failures that pass with time into `Deferred`."""
    try:
        return await call
    except (RateLimited, Transient, httpx.TransportError, TimeoutError) as exc:
        deferred = deferred_from(exc, what)
        assert deferred is not None
        raise deferred from None
