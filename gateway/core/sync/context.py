"""What a sync run works with: the process's dependencies (`SyncDeps`) and one run's state (`Run`).

The verbs of a run (`pull`, `push`, `imports`) each take a `Run`: its session, link, ticket system, the door to
the tracker, the lease and the report. Every tracker request of a run goes through `Run.read` or `Run.write`, so
a run that lost its lease stops before its next remote write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.connectors import AuthExpired, Connector, Credentials
from gateway.core.links import ConnectorRuntime
from gateway.core.models import Link, TicketSystem
from gateway.core.secrets_at_rest import open_credentials
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.errors import NEEDS_REFRESH, PreviewUnavailable
from gateway.core.sync.report import SyncReport
from gateway.core.tracker_door import TrackerDoor, TrackerSession

if TYPE_CHECKING:
    from gateway.core.sync.lease import Lease

T = TypeVar("T")

# Pending entries go out on this many lanes at once (one ticket's entries always on one lane, in order).
PUSH_LANES = 8
# A pull applies pages for this long, then the run ends and the job chains another: each job stays well within
# the job timeout, and the cursor of every committed page is kept.
PULL_SECONDS = 120.0
# A lease this long, renewed every quarter of it while the run lives: a killed worker's link is free in < 20 s.
LEASE_SECONDS = 20.0
DEFAULT_IMPORT_START = time(9, 0)


@dataclass
class SyncDeps:
    """What a sync needs from the process that runs it."""

    session_factory: async_sessionmaker[AsyncSession]
    runtime: ConnectorRuntime
    coordinator: Coordinator
    lease_seconds: float = LEASE_SECONDS
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    push_lanes: int = PUSH_LANES
    pull_seconds: float = PULL_SECONDS

    @property
    def door(self) -> TrackerDoor:
        return TrackerDoor(self.runtime, self.coordinator, self.session_factory, clock=self.clock)


@dataclass
class Run:
    """One run of one link."""

    deps: SyncDeps
    session: AsyncSession
    link: Link
    system: TicketSystem
    tracker: TrackerSession
    report: SyncReport
    dry_run: bool = False
    lease: Lease | None = None

    @property
    def connector(self) -> Connector[Any]:
        return self.tracker.connector

    @property
    def source(self) -> str:
        return f"sync:{self.system.name}"

    async def start(self) -> None:
        if self.dry_run:
            # A refresh rotates tokens at the tracker: a dry run uses what is stored, or stops.
            credentials = open_credentials(self.link, self.deps.runtime.key_ring)
            expires = credentials.expires_at if credentials else None
            if credentials is None or (expires is not None and expires <= self.deps.clock()):
                raise PreviewUnavailable(NEEDS_REFRESH)
            self.tracker.credentials = credentials
            return
        await self.tracker.start()

    async def read(self, make: Callable[[Credentials], Awaitable[T]], what: str) -> T:
        """A request that changes nothing in the tracker."""
        try:
            return await self.tracker.call(_with_credentials(make), what)
        except AuthExpired:
            if self.dry_run:
                raise PreviewUnavailable(NEEDS_REFRESH) from None
            raise

    async def write(self, make: Callable[[Credentials], Awaitable[T]], what: str) -> T:
        """A request that changes the tracker: only while the run still holds its lease."""
        if self.lease is not None:
            self.lease.ensure_held()
        return await self.read(make, what)


def _with_credentials(make: Callable[[Credentials], Awaitable[T]]) -> Callable[[Credentials | None], Awaitable[T]]:
    def call(credentials: Credentials | None) -> Awaitable[T]:
        assert credentials is not None, "the run starts (and has credentials) before it calls the tracker"
        return make(credentials)

    return call
