"""The lease on a link row: one run per link at a time, across processes, for as long as the run lives.

A run takes the lease with a conditional UPDATE (free, or lapsed), and a heartbeat task renews it every quarter
of its length while the run is alive. A worker that dies (SIGKILL, a lost machine) stops renewing, so its link is
free again within one lease length, and the recovery sweep queues it. A run whose renewal failed — another runner
took the link after a stall, or the database was unreachable for longer than the lease — no longer holds it:
`ensure_held` raises `LeaseLost` before its next remote write.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.core.logs import get_logger
from gateway.core.models import Link
from gateway.core.sync.errors import LeaseLost

log = get_logger("gateway.sync")


class Lease:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        link_id: int,
        *,
        seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.session_factory = session_factory
        self.link_id = link_id
        self.seconds = seconds
        self.clock = clock
        self.owner = secrets.token_hex(8)
        self.until: datetime | None = None
        self.lost = False
        self._heartbeat: asyncio.Task[None] | None = None

    async def take(self, session: AsyncSession) -> bool:
        """Take the lease if it is free or lapsed (commits `session`)."""
        now = self.clock()
        until = now + timedelta(seconds=self.seconds)
        result = await session.execute(
            update(Link)
            .where(Link.id == self.link_id, or_(Link.sync_lease_until.is_(None), Link.sync_lease_until < now))
            .values(sync_lease_owner=self.owner, sync_lease_until=until)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        if result.rowcount:  # type: ignore[attr-defined]
            self.until = until
            return True
        return False

    async def renew(self) -> bool:
        """Extend the lease by its length, if this run still holds it."""
        if self.lost:
            return False
        until = self.clock() + timedelta(seconds=self.seconds)
        async with self.session_factory() as session:
            result = await session.execute(
                update(Link)
                .where(Link.id == self.link_id, Link.sync_lease_owner == self.owner)
                .values(sync_lease_until=until)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        if not result.rowcount:  # type: ignore[attr-defined]
            self.lost = True
            log.warning("a sync run lost its lease", link_id=self.link_id)
            return False
        self.until = until
        return True

    def start_heartbeat(self) -> None:
        async def beat() -> None:
            while not self.lost:
                await asyncio.sleep(self.seconds / 4)
                try:
                    await self.renew()
                except Exception as exc:  # the database may be back before the lease lapses
                    log.warning("could not renew a sync lease", link_id=self.link_id, error=type(exc).__name__)

        self._heartbeat = asyncio.get_running_loop().create_task(beat())

    async def stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    def ensure_held(self) -> None:
        """Raise `LeaseLost` unless this run still holds the lease (checked before every remote write)."""
        # A margin of a second: a write that starts just before the lease lapses must not outlive it by much.
        if self.lost or self.until is None or self.clock() >= self.until - timedelta(seconds=1):
            self.lost = True
            raise LeaseLost("the run lost its lease on the link; another runner may have taken it")
