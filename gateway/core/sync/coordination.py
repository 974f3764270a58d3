"""What workers share: one writer per ticket at a time, and a request budget per ticket system.

Trackers rate-limit per issue and corrupt an issue's time total under parallel writes (Jira), so writes to one
ticket are serialised across all workers. Each ticket system has a budget of requests per second shared by all
workers, so many workers do not add up to a 429 storm. With Redis both live there; without it (one process)
they live in memory.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError

from gateway.core import metrics
from gateway.core.sync.deferred import Deferred

LOCK_POLL_SECONDS = 0.05


class Coordinator(Protocol):
    def ticket_lock(self, system_id: int, ticket: str) -> AbstractAsyncContextManager[None]:
        """Hold the one write slot of a ticket."""
        ...

    async def take_budget(self, system_id: int) -> None:
        """Wait until the ticket system's budget allows one more request."""


class LocalCoordinator:
    """Coordination within one process (the embedded setup without Redis)."""

    def __init__(self, requests_per_second: int) -> None:
        self.requests_per_second = requests_per_second
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._windows: dict[int, tuple[int, int]] = {}  # system -> (second, requests in it)

    @asynccontextmanager
    async def ticket_lock(self, system_id: int, ticket: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault((system_id, ticket), asyncio.Lock())
        async with lock:
            yield

    async def take_budget(self, system_id: int) -> None:
        while True:
            second = int(time.time())
            window, used = self._windows.get(system_id, (second, 0))
            if window != second:
                window, used = second, 0
            if used < self.requests_per_second:
                self._windows[system_id] = (window, used + 1)
                return
            await metrics.wait_for_budget(second + 1 - time.time())


class RedisCoordinator:
    """Coordination across processes through Redis: SET NX locks with expiry, and per-second counters."""

    def __init__(
        self, redis: Redis, requests_per_second: int, *, lock_seconds: float = 60, prefix: str = "gateway"
    ) -> None:
        self.redis = redis
        self.requests_per_second = requests_per_second
        # A lock's holder may die; its lock then lapses after this long, and others wait at most this long.
        self.lock_seconds = lock_seconds
        self.prefix = prefix

    @asynccontextmanager
    async def ticket_lock(self, system_id: int, ticket: str) -> AsyncIterator[None]:
        # redis-py's lock: a token per holder, released only by its holder, lapsing if the holder dies.
        lock = self.redis.lock(
            f"{self.prefix}:ticket-lock:{system_id}:{ticket}",
            timeout=self.lock_seconds,
            sleep=LOCK_POLL_SECONDS,
            blocking_timeout=self.lock_seconds,
        )
        if not await lock.acquire():
            raise Deferred(f"another worker keeps writing to ticket {ticket}", retry_after=1)
        try:
            yield
        finally:
            with suppress(LockError):  # it lapsed while we wrote: someone else may hold it now, leave it be
                await lock.release()

    async def take_budget(self, system_id: int) -> None:
        while True:
            now = time.time()
            key = f"{self.prefix}:budget:{system_id}:{int(now)}"
            used = await self.redis.incr(key)
            if used == 1:
                await self.redis.expire(key, 5)
            if used <= self.requests_per_second:
                return
            await metrics.wait_for_budget(int(now) + 1 - now)
