"""Reports on a read replica: where a report's reads go, and when they go to the primary instead.

With `DATABASE_REPLICA_URL` set (a PostgreSQL streaming replica of `DATABASE_URL`), report and export queries read
from the replica, so long aggregations do not compete with bookings on the primary. Everything else — every write,
and every read that must see what was just written (the caller's own entry list, the caller itself) — stays on the
primary. A report goes to the primary instead when:

- the replica does not answer (`reason="unreachable"`), or lags more than `GATEWAY_REPLICA_MAX_LAG` seconds behind
  (`reason="lagging"`): counted in `gateway_replica_fallbacks_total` and logged;
- the caller changed entries (booked, edited, deleted) within the last `GATEWAY_REPLICA_MAX_LAG` seconds: the
  replica, at most that far behind, may not show their change yet (read-your-writes; not a fallback, not logged).

The replica's state is asked for with each report (one short query on a pooled connection); an unreachable replica
is asked again only after `RETRY_UNREACHABLE_SECONDS`, so reports do not each wait for a failing connect.
Recent writers are noted after each commit, in the process and, with Redis, for the other API processes too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, UOWTransaction

from gateway.core import metrics
from gateway.core.db import GatewaySession, begin_read_only, create_engine, create_session_factory, describe_url
from gateway.core.errors import reason_of
from gateway.core.logs import get_logger
from gateway.core.models import EntryRevision

log = get_logger("gateway.replica")

RETRY_UNREACHABLE_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2
CHECK_TIMEOUT_SECONDS = 3.0
# Caught up when everything received is replayed; otherwise behind by the age of the last replayed transaction.
LAG_QUERY = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)
WRITER_KEY = "gateway:replica:wrote:{user_id}"


@dataclass(frozen=True, slots=True)
class ReplicaState:
    usable: bool
    reason: str | None = None  # why not: "unreachable" or "lagging"
    lag_seconds: float | None = None
    detail: str | None = None


class ReadRouter:
    """Hands out sessions for reports: on the replica when there is one and it may serve this caller."""

    def __init__(
        self,
        primary: async_sessionmaker[AsyncSession],
        replica_url: str | None = None,
        *,
        max_lag_seconds: float = 30,
        redis: Redis | None = None,
        prepared_statements: bool = True,
    ) -> None:
        self.primary = primary
        self.max_lag_seconds = max_lag_seconds
        self.redis = redis
        self.replica_engine: AsyncEngine | None = None
        self.replica: async_sessionmaker[AsyncSession] | None = None
        self._down_until = 0.0
        self._last_reason: str | None = None
        if replica_url is not None:
            self.replica_engine = create_engine(
                replica_url,
                prepared_statements=prepared_statements,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
            )
            self.replica = create_session_factory(self.replica_engine)
            self.where = describe_url(replica_url)
            _WRITERS.remember_for(max_lag_seconds, redis)

    @asynccontextmanager
    async def session(self, user_id: int | None) -> AsyncIterator[AsyncSession]:
        """A read-only session for a report asked for by `user_id`."""
        factory = await self.factory_for(user_id)
        async with factory() as session:
            await begin_read_only(session)
            yield session

    async def factory_for(self, user_id: int | None) -> async_sessionmaker[AsyncSession]:
        if self.replica is None:
            return self.primary
        if user_id is not None and await _WRITERS.wrote_recently(user_id):
            return self.primary
        state = await self.state()
        if not state.usable:
            assert state.reason is not None
            metrics.replica_fallback(state.reason)
            return self.primary
        return self.replica

    async def state(self) -> ReplicaState:
        """Whether the replica answers and how far behind it is (lag in seconds)."""
        if self.replica_engine is None:
            return ReplicaState(usable=False, reason="not configured")
        if time.monotonic() < self._down_until:
            return ReplicaState(usable=False, reason="unreachable", detail="it did not answer a moment ago")
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), self.replica_engine.connect() as connection:
                lag = float((await connection.execute(LAG_QUERY)).scalar_one())
        except Exception as exc:  # the driver's and the pool's errors alike: the replica is not usable
            self._down_until = time.monotonic() + RETRY_UNREACHABLE_SECONDS
            return self._fall_back("unreachable", None, f"cannot reach the replica at {self.where}: {reason_of(exc)}")
        if lag > self.max_lag_seconds:
            return self._fall_back(
                "lagging", lag, f"the replica is {lag:.0f} s behind (at most {self.max_lag_seconds:g})"
            )
        if self._last_reason is not None:
            log.info("reports read from the replica again", replica=self.where, lag_seconds=round(lag, 1))
            self._last_reason = None
        return ReplicaState(usable=True, lag_seconds=lag)

    def _fall_back(self, reason: str, lag: float | None, detail: str) -> ReplicaState:
        # One line per fallback would flood the log under load; one per change of reason says it, and the metric
        # counts every report that went to the primary.
        if reason != self._last_reason:
            log.warning("reports read from the primary", reason=reason, detail=detail)
            self._last_reason = reason
        return ReplicaState(usable=False, reason=reason, lag_seconds=lag, detail=detail)

    async def dispose(self) -> None:
        if self.replica_engine is not None:
            await self.replica_engine.dispose()


# --- Who wrote recently -----------------------------------------------------------------------------------------


class _RecentWriters:
    """Users who changed entries within the replica's lag bound, noted after each commit of this process."""

    def __init__(self) -> None:
        self.seconds: float | None = None  # None: no replica in this process, nothing to note
        self.redis: Redis | None = None
        self._local: dict[int, float] = {}
        self._sending: set[asyncio.Task[Any]] = set()

    def remember_for(self, seconds: float, redis: Redis | None) -> None:
        self.seconds = max(seconds, self.seconds or 0)
        self.redis = redis or self.redis

    def note(self, user_ids: set[int]) -> None:
        if self.seconds is None:
            return
        now = time.monotonic()
        for user_id in user_ids:
            self._local[user_id] = now
        if self.redis is not None:
            # The answer to the write is sent after this; the note reaches Redis long before the caller's next
            # request can reach another process.
            try:
                task = asyncio.get_running_loop().create_task(self._share(user_ids))
            except RuntimeError:
                return
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _share(self, user_ids: set[int]) -> None:
        assert self.redis is not None
        assert self.seconds is not None
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for user_id in user_ids:
                    pipe.set(WRITER_KEY.format(user_id=user_id), 1, px=int(self.seconds * 1000))
                await pipe.execute()
        except Exception as exc:  # Redis down: this process still knows, the others may read the replica
            log.warning("recent writers not shared through Redis", error=reason_of(exc))

    async def wrote_recently(self, user_id: int) -> bool:
        if self.seconds is None:
            return False
        noted = self._local.get(user_id)
        if noted is not None:
            if time.monotonic() - noted < self.seconds:
                return True
            del self._local[user_id]
        if self.redis is None:
            return False
        try:
            return bool(await self.redis.exists(WRITER_KEY.format(user_id=user_id)))
        except Exception:  # without Redis we cannot know: the primary is always right
            return True


_WRITERS = _RecentWriters()
_CHANGED_BY = "gateway_replica_writers"


@event.listens_for(GatewaySession, "after_flush")
def _note_writers(session: Session, _flush: UOWTransaction) -> None:
    if _WRITERS.seconds is None:
        return
    # Every change a user makes to an entry leaves a revision naming them; a tracker's changes (sync) do not count.
    for row in session.new:
        if isinstance(row, EntryRevision) and row.author_id is not None and not row.source.startswith("sync:"):
            session.info.setdefault(_CHANGED_BY, set()).add(row.author_id)


@event.listens_for(GatewaySession, "after_commit")
def _remember_writers(session: Session) -> None:
    writers = session.info.pop(_CHANGED_BY, None)
    if writers:
        _WRITERS.note(writers)


@event.listens_for(GatewaySession, "after_soft_rollback")
def _forget_writers(session: Session, _previous: Any) -> None:
    session.info.pop(_CHANGED_BY, None)
