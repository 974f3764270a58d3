"""The sync jobs, and the two ways of running them: arq workers on Redis, or in-process without Redis.

The job functions here are the real work; `workers/jobs.py` wraps them for arq, and `InlineQueue` runs the same
functions inside the API process when `REDIS_URL` is unset. Either way a job has an id derived from its
arguments (`sync_link:42`), so asking twice while one is queued or running does not make two.
"""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import exists, or_, select, update

from gateway.core.commit_events import CommittedWork
from gateway.core.enums import SyncState
from gateway.core.errors import reason_of
from gateway.core.links import live_system
from gateway.core.live import LivePublisher
from gateway.core.logs import get_logger
from gateway.core.models import Entry, Link, Project, TicketSystem
from gateway.core.plugins import ConnectorRegistry
from gateway.core.sync.deferred import Deferred, RunAgain
from gateway.core.sync.engine import SyncDeps, SyncReport, sync_link
from gateway.core.ticket_cache import upsert_ticket
from gateway.core.ticket_feed import read_changed_tickets, systems_due
from gateway.core.webhook_deliveries import HANDLE_DELIVERIES, handle_deliveries, systems_with_deliveries

log = get_logger("gateway.jobs")

SYNC_LINK = "sync_link"
PULL_LINK = "pull_link"
REFRESH_TICKET = "refresh_ticket"
READ_CHANGED_TICKETS = "read_changed_tickets"
# Links are pulled at least this often, and tokens refreshed this long before they expire.
PULL_EVERY = timedelta(minutes=15)
REFRESH_AHEAD = timedelta(minutes=15)
# How often the workers look for links whose run died with its worker (an expired lease left behind).
RECOVER_EVERY_SECONDS = 30
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0


def job_id(name: str, *args: Any) -> str:
    return ":".join([name, *map(str, args)])


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter, capped: 2 s, 4 s, 8 s … at most 10 minutes."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


def retry_delay(deferred: Deferred, attempt: int) -> float:
    """The tracker's Retry-After when it gave one, else backoff."""
    return deferred.retry_after if deferred.retry_after is not None else backoff_seconds(attempt)


# --- The jobs -------------------------------------------------------------------------------------------------


async def run_sync_link(deps: SyncDeps, link_id: int) -> SyncReport:
    return _unless_busy(deps, await sync_link(deps, link_id))


async def run_pull_link(deps: SyncDeps, link_id: int) -> SyncReport:
    return _unless_busy(deps, await sync_link(deps, link_id, push=False))


def _unless_busy(deps: SyncDeps, report: SyncReport) -> SyncReport:
    """A link another runner holds is tried again when that lease ends: if the holder died mid-run, its
    unfinished work (say, a create whose answer it never saw) is picked up then. A sync asked for while this one
    ran, or the rest of a long pull, goes on at once in a new job."""
    if report.busy_until is not None:
        wait = max(1.0, (report.busy_until - deps.clock()).total_seconds())
        raise Deferred("another runner holds the link", retry_after=wait)
    if report.pull_unfinished:
        raise RunAgain("the pull goes on from its last committed page")
    if report.requested_again:
        raise RunAgain("asked to sync again while syncing")
    return report


async def run_refresh_ticket(deps: SyncDeps, system_id: int, key: str) -> bool:
    """Fetch one ticket into the cache, with the credentials (refreshed when due) of a connected link."""
    async with deps.session_factory() as session:
        system = await live_system(session, system_id)
        link_id = await session.scalar(
            select(Link.id)
            .where(
                Link.ticket_system_id == system_id,
                Link.enabled.is_(True),
                Link.access_token.is_not(None),
                Link.needs_reconnect.is_(False),
            )
            .order_by(Link.last_sync_at.desc().nulls_last(), Link.id)
        )
        await session.commit()  # no transaction stays open while the tracker is asked
        tracker = deps.door.open(system, link_id=link_id)
        if link_id is not None:
            await tracker.start()
        ticket = await tracker.call(
            lambda credentials: tracker.connector.fetch_ticket(credentials, key), "fetch a ticket"
        )
        await upsert_ticket(session, system_id, ticket, now=deps.clock())
        await session.commit()
    return True


# The one table of jobs: arq's `WorkerSettings` (workers/settings.py) and `InlineQueue` both run these.
JOBS: dict[str, Callable[..., Awaitable[Any]]] = {
    SYNC_LINK: run_sync_link,
    PULL_LINK: run_pull_link,
    REFRESH_TICKET: run_refresh_ticket,
    READ_CHANGED_TICKETS: read_changed_tickets,
    HANDLE_DELIVERIES: handle_deliveries,
}
# Jobs that sync a link (their first argument): a deferral is written on the link as its next attempt.
LINK_JOBS = frozenset({SYNC_LINK, PULL_LINK})


async def note_next_attempt(deps: SyncDeps, link_id: int, delay_seconds: float) -> None:
    """Write when a deferred link's job runs again, so the sync status shows the real next attempt."""
    async with deps.session_factory() as session:
        await session.execute(
            update(Link)
            .where(Link.id == link_id)
            .values(next_sync_at=deps.clock() + timedelta(seconds=delay_seconds))
            .execution_options(synchronize_session=False)
        )
        await session.commit()


async def abandoned_links(deps: SyncDeps) -> list[tuple[int, datetime]]:
    """Links whose lease lapsed while still set: their run died with its worker (a finished run clears it).
    Each with the lapsed lease's end, which names the recovery job (one per abandoned run)."""
    now = deps.clock()
    async with deps.session_factory() as session:
        rows = (
            await session.execute(
                select(Link.id, Link.sync_lease_until)
                .where(Link.sync_lease_until.is_not(None), Link.sync_lease_until < now, Link.enabled.is_(True))
                .order_by(Link.id)
            )
        ).all()
    return [(row[0], row[1]) for row in rows if row[1] is not None]


def recovery_job_id(link_id: int, lease_until: datetime) -> str:
    # Not `sync_link:<id>`: the dead worker's job may still count as in progress in arq until its timeout.
    return job_id(SYNC_LINK, link_id, "recover", int(lease_until.timestamp()))


async def due_jobs(deps: SyncDeps) -> list[tuple[str, int]]:
    """Every job the schedule wants now: syncs of due links, reads of due ticket systems' changed tickets."""
    jobs = [(SYNC_LINK, link_id) for link_id in await due_links(deps)]
    jobs += [(HANDLE_DELIVERIES, system_id) for system_id in await systems_with_deliveries(deps)]
    return jobs + [(READ_CHANGED_TICKETS, system_id) for system_id in await systems_due(deps)]


async def due_links(deps: SyncDeps) -> list[int]:
    """Links that should sync now: a request is waiting, entries are pending, the last pull is old, or the token
    expires soon (a refresh keeps rotating refresh tokens alive while the user is idle)."""
    now = deps.clock()
    pending = exists().where(
        Entry.user_id == Link.user_id,
        Entry.sync_state == SyncState.PENDING,
        Entry.project_id.in_(select(Project.id).where(Project.ticket_system_id == Link.ticket_system_id)),
    )
    async with deps.session_factory() as session:
        ids = await session.scalars(
            select(Link.id)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .where(
                # A deferred link waits for its retry (its job is queued for then).
                or_(Link.next_sync_at.is_(None), Link.next_sync_at <= now),
                Link.enabled.is_(True),
                Link.needs_reconnect.is_(False),
                Link.access_token.is_not(None),
                TicketSystem.enabled.is_(True),
                TicketSystem.deleted_at.is_(None),
                or_(
                    Link.sync_requested_at.is_not(None)
                    & (Link.last_sync_at.is_(None) | (Link.sync_requested_at > Link.last_sync_at)),
                    pending,
                    Link.last_sync_at.is_(None),
                    Link.last_sync_at < now - PULL_EVERY,
                    Link.token_expires_at < now + REFRESH_AHEAD,
                ),
            )
            .order_by(Link.id)
        )
        return list(ids.all())


# --- Queues ---------------------------------------------------------------------------------------------------


class JobQueue(Protocol):
    async def enqueue(self, name: str, *args: Any) -> None:
        """Queue a job; a job with the same id already queued or running absorbs it."""

    def enqueue_soon(self, name: str, *args: Any) -> None:
        """Queue a job from synchronous code running inside the event loop (an after-commit hook)."""


class _Queue(ABC):
    """What both queues share: `enqueue_soon` as a task on the running loop, kept referenced until done."""

    def __init__(self) -> None:
        self._soon: set[asyncio.Task[None]] = set()

    @abstractmethod
    async def enqueue(self, name: str, *args: Any) -> None: ...

    def enqueue_soon(self, name: str, *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(self.enqueue(name, *args))
        self._soon.add(task)
        task.add_done_callback(self._soon.discard)


class ArqQueue(_Queue):
    """Jobs for arq workers. If Redis is down the job is not queued, but the link's sync request is on record
    in the database and the workers' sweep picks it up when Redis is back."""

    def __init__(self, redis: ArqRedis) -> None:
        super().__init__()
        self.redis = redis

    async def enqueue(self, name: str, *args: Any) -> None:
        try:
            await self.redis.enqueue_job(name, *args, _job_id=job_id(name, *args))
        except (RedisError, OSError) as exc:
            log.warning("could not queue a job; the sweep will retry", job=job_id(name, *args), error=reason_of(exc))


@dataclass
class _Running:
    task: asyncio.Task[None]
    again: bool = False


CLOSE_SECONDS = 10.0


class InlineQueue(_Queue):
    """Runs the same jobs inside this process, one per job id, deferring and retrying as the workers do."""

    def __init__(self, deps: SyncDeps, *, max_tries: int = 20, sweep_every: float = 60.0) -> None:
        super().__init__()
        self.deps = deps
        self.max_tries = max_tries
        self.sweep_every = sweep_every
        self._running: dict[str, _Running] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def enqueue(self, name: str, *args: Any) -> None:
        key = job_id(name, *args)
        running = self._running.get(key)
        if running is not None:
            running.again = True  # it runs once more when done, and sees what was asked meanwhile
            return
        self._running[key] = _Running(asyncio.get_running_loop().create_task(self._run(key, name, args)))

    async def _run(self, key: str, name: str, args: tuple[Any, ...]) -> None:
        attempt = 1
        try:
            while True:
                try:
                    await JOBS[name](self.deps, *args)
                except RunAgain:
                    attempt = 1
                    continue
                except Deferred as deferred:
                    if attempt >= self.max_tries:
                        log.error("job gave up after retries", job=key, error=str(deferred))
                    else:
                        delay = retry_delay(deferred, attempt)
                        if name in LINK_JOBS:
                            await note_next_attempt(self.deps, args[0], delay)
                        await asyncio.sleep(delay)
                        attempt += 1
                        continue
                except Exception:
                    log.exception("job failed", job=key)
                running = self._running[key]
                if not running.again:
                    return
                running.again, attempt = False, 1
        finally:
            self._running.pop(key, None)

    async def sweep(self) -> list[tuple[str, int]]:
        """Queue every job that is due: link syncs, ticket-cache reads (the workers' cron does the same)."""
        jobs = await due_jobs(self.deps)
        due = {link_id for name, link_id in jobs if name == SYNC_LINK}
        jobs += [(SYNC_LINK, link_id) for link_id, _until in await abandoned_links(self.deps) if link_id not in due]
        for name, argument in jobs:
            await self.enqueue(name, argument)
        return jobs

    def start(self) -> None:
        async def sweep_forever() -> None:
            while True:
                try:
                    await self.sweep()
                except Exception:
                    log.exception("sweep failed")
                await asyncio.sleep(self.sweep_every)

        self._sweeper = asyncio.get_running_loop().create_task(sweep_forever())

    async def idle(self) -> None:
        """Wait until no job runs (for tests and orderly shutdown)."""
        while self._running or self._soon:
            await asyncio.gather(*(r.task for r in list(self._running.values())), *self._soon, return_exceptions=True)

    async def close(self) -> None:
        tasks = [r.task for r in self._running.values()] + list(self._soon)
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        # Bounded: a job cancelled inside a database call it cannot leave (aiosqlite's thread) must not hold up
        # the process's shutdown; its work is on record and the next start's sweep picks it up.
        _, stuck = await asyncio.wait(tasks, timeout=CLOSE_SECONDS)
        if stuck:
            log.warning("jobs did not stop in time; left to the next start's sweep", jobs=len(stuck))


def after_commit_handler(
    registry: ConnectorRegistry, queue: JobQueue, live: LivePublisher | None = None
) -> Callable[[CommittedWork], None]:
    """What a committed transaction sets off: plugins hear of entry changes, links get sync jobs, open pages
    learn what changed."""

    def handle(work: CommittedWork) -> None:
        for change in work.entry_changes:
            registry.notify_entry_committed(change)
        for link_id in sorted(work.links_to_sync):
            queue.enqueue_soon(SYNC_LINK, link_id)
        if live is not None and work.live_events:
            live.publish_soon(list(work.live_events.values()))

    return handle
