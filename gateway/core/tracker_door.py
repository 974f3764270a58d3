"""The one door to a tracker: every connector call goes through here.

A call takes one request from the ticket system's budget (shared by all workers), refreshes the link's token once
when the tracker says it expired, and leaves with a typed outcome the caller can act on:

- `Deferred` — try again later (a 429 with its Retry-After, a 5xx, a timeout, a dropped connection — also when
  it happens at the token endpoint while refreshing); a 429 that asks for a second or two is waited out in place;
- `AuthRevoked` — the user must connect again (the refresh was refused, or fresh credentials are refused too);
- `Rejected` / `NotFound` — the tracker refused this one request; retrying the same will not help.

The sync engine, the jobs, the ticket check at booking, link validation, the ticket search and the ticket feed
all call connectors through a `TrackerDoor`, so none of them maps errors its own way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.connectors import AuthExpired, AuthRevoked, Connector, Credentials, RateLimited, Transient
from gateway.core.link_tokens import usable_credentials
from gateway.core.links import ConnectorRuntime, build_connector
from gateway.core.models import TicketSystem
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.deferred import Deferred, deferred_from, typed

T = TypeVar("T")
# A 429 whose Retry-After is at most this long is waited out in place (at most MAX_WAITS times per request).
WAIT_IN_PLACE_SECONDS = 2.0
MAX_WAITS = 3


class TrackerDoor:
    """Opens connections (`TrackerSession`) to ticket systems for one process."""

    def __init__(
        self,
        runtime: ConnectorRuntime,
        coordinator: Coordinator,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.runtime = runtime
        self.coordinator = coordinator
        self.session_factory = session_factory
        self.clock = clock

    def open(
        self,
        system: TicketSystem,
        *,
        link_id: int | None = None,
        credentials: Credentials | None = None,
        refresh: bool = True,
        budget_wait: float | None = None,
        timeout: float | None = None,
    ) -> TrackerSession:
        """A session with `system`'s connector; with `link_id` it acts for that link (and may refresh its token
        when `refresh`, which needs a session factory: a refresh commits in a transaction of its own)."""
        return TrackerSession(
            self,
            system.id,
            build_connector(system, self.runtime),
            link_id=link_id,
            credentials=credentials,
            refresh=refresh and self.session_factory is not None and link_id is not None,
            budget_wait=budget_wait,
            timeout=timeout,
        )


class TrackerSession:
    """Calls to one ticket system's connector, on behalf of one link (or of nobody, for public reads)."""

    def __init__(
        self,
        door: TrackerDoor,
        system_id: int,
        connector: Connector[Any],
        *,
        link_id: int | None,
        credentials: Credentials | None,
        refresh: bool,
        budget_wait: float | None,
        timeout: float | None,
    ) -> None:
        self.door = door
        self.system_id = system_id
        self.connector = connector
        self.link_id = link_id
        self.credentials = credentials
        self.refresh = refresh
        self.budget_wait = budget_wait
        self.timeout = timeout

    async def start(self) -> Credentials:
        """The link's credentials, refreshed first when they expire soon. `Deferred` when the token endpoint
        fails for now, `AuthRevoked` when it refuses the grant."""
        self.credentials = await self._usable(rejected_token=None)
        return self.credentials

    async def call(self, make: Callable[[Credentials | None], Awaitable[T]], what: str) -> T:
        """One tracker request: within the budget, refreshing once on an expired token, errors made typed."""
        refreshed = False
        waits = 0
        while True:
            await self._take_budget(what)
            try:
                pending = make(self.credentials)
                return await (asyncio.wait_for(pending, self.timeout) if self.timeout is not None else pending)
            except AuthExpired:
                if not self.refresh or self.credentials is None:
                    raise
                if refreshed:
                    raise AuthRevoked(f"{what}: the tracker refuses even fresh credentials") from None
                self.credentials = await self._usable(rejected_token=self.credentials.access_token)
                refreshed = True
            except RateLimited as exc:
                # A tracker that counts requests per second answers "in a second": waiting that long here keeps
                # the run going (and honours Retry-After); a longer wait defers the whole run.
                if exc.retry_after is None or exc.retry_after > WAIT_IN_PLACE_SECONDS or waits >= MAX_WAITS:
                    raise Deferred(f"{what}: {exc}", exc.retry_after) from None
                waits += 1
                await asyncio.sleep(exc.retry_after)
            except (Transient, httpx.TransportError, TimeoutError) as exc:
                deferred = deferred_from(exc, what)
                assert deferred is not None
                raise deferred from None

    async def _take_budget(self, what: str) -> None:
        taking = self.door.coordinator.take_budget(self.system_id)
        try:
            await (taking if self.budget_wait is None else asyncio.wait_for(taking, self.budget_wait))
        except TimeoutError:
            raise Deferred(f"{what}: the ticket system's request budget is spent for now", 1.0) from None
        except (RedisError, OSError) as exc:
            # The budget lives in Redis: without it no request goes out (the workers' budget would be overrun).
            raise Deferred(f"{what}: the request budget is unavailable ({type(exc).__name__})") from None

    async def _usable(self, *, rejected_token: str | None) -> Credentials:
        assert self.link_id is not None
        assert self.door.session_factory is not None
        return await typed(
            usable_credentials(
                self.door.session_factory,
                self.link_id,
                self.connector,
                self.door.runtime.key_ring,
                now=self.door.clock(),
                rejected_token=rejected_token,
            ),
            "refresh the link's token",
        )
