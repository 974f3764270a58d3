"""Syncing one link: pull the tracker's changes, then push the user's pending entries. `sync_link` is the one
entry point; the verbs live in their own modules: `pull` (reconcile, page by page), `imports`, `push` (lanes
across tickets), `lease` (one run per link, renewed while it lives), `context` (what a run works with).

Rules that hold whatever happens:
- One sync per link at a time: a lease on the link row, taken with a conditional UPDATE and renewed by a heartbeat
  while the run lives; a run that lost it stops before its next remote write.
- No lost time: entries are committed before any remote call; a remote failure never rolls an entry back.
  Transient failures and rate limits — from any connector call, the token endpoint included — defer the whole run
  (`Deferred`); a refused worklog marks only its entry `failed` with the tracker's reason; a refused pull is
  recorded on the run and the link (`pull failed: …`) and the pushes still go out.
- No duplicate worklogs: before a remote create the attempt is committed; a later attempt first looks the
  worklog up by its marker (the entry's uuid) and adopts it.
- Every run that did not finish cleanly records why, on the run and on the link, and when the next attempt is.

A dry run (`dry_run=True`, used by `sync.preview`) goes through the same steps with the tracker's writes left
out: its worklog creates, updates and deletes are recorded instead of sent, no token is refreshed, no lease or run
is recorded, and the caller rolls back the one transaction everything happened in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.connectors import AuthRevoked, NotFound, Rejected
from gateway.core import sync_runs  # noqa: F401  (its listener counts every finished run in the metrics)
from gateway.core.commit_events import record_link_change
from gateway.core.errors import GatewayError, reason_of
from gateway.core.logs import get_logger
from gateway.core.models import Link, SyncRun, TicketSystem
from gateway.core.sync.context import Run, SyncDeps
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.errors import PreviewUnavailable
from gateway.core.sync.lease import Lease
from gateway.core.sync.pull import pull as pull_changes
from gateway.core.sync.push import push as push_pending
from gateway.core.sync.report import SyncEvent, SyncReport
from gateway.core.sync.snapshot import end_of

__all__ = ["PreviewUnavailable", "SyncDeps", "SyncEvent", "SyncReport", "end_of", "sync_link"]

log = get_logger("gateway.sync")
# A run that finds new sync requests made while it ran goes round again, this many times at most.
MAX_ROUNDS = 3
# A run's report keeps this many events (for logs and tests); its counts cover all.
EVENTS_KEPT = 200
# Until the runner says when it retries, a deferred link counts as due again after this long.
DEFERRED_AT_LEAST = timedelta(seconds=2)


async def sync_link(
    deps: SyncDeps, link_id: int, *, push: bool = True, pull: bool = True, dry_run: bool = False
) -> SyncReport:
    """Sync one link; returns what was done, raises `Deferred` when the run must be retried later."""
    report = SyncReport(link_id=link_id, keep_events=None if dry_run else EVENTS_KEPT)
    async with deps.session_factory() as session:
        found = await _link_and_system(session, link_id)
        if found is None:
            report.skipped = "the link or its ticket system is gone, disabled, or not connected"
            return report
        link, system = found
        user_id, system_id = link.user_id, link.ticket_system_id
        try:
            tracker = deps.door.open(system, link_id=link.id, refresh=not dry_run)
        except GatewayError as exc:
            if not dry_run:
                link.last_error = str(exc)
                await session.commit()
            report.skipped = str(exc)
            return report
        run = Run(deps, session, link, system, tracker, report, dry_run=dry_run)
        if dry_run:
            # Nothing is stored, so nothing needs guarding against a second runner.
            try:
                await run.start()
                if pull:
                    await pull_changes(run)
                if push:
                    await push_pending(run)
            except AuthRevoked as exc:
                report.skipped = f"reconnect needed: {exc}"
            return report
        lease = Lease(deps.session_factory, link_id, seconds=deps.lease_seconds, clock=deps.clock)
        if not await lease.take(session):
            report.skipped = "another worker is syncing this link"
            await session.refresh(link)
            report.busy_until = link.sync_lease_until
            return report
        run.lease = lease
        sync_run = SyncRun(link_id=link_id, started_at=deps.clock())
        session.add(sync_run)
        record_link_change(session, user_id, system_id)  # pages show the sync running
        await session.commit()
        lease.start_heartbeat()

        error: str | None = None
        retry_after: float | None = None
        round_started = deps.clock()
        try:
            for _ in range(MAX_ROUNDS):
                round_started = deps.clock()
                await run.start()
                # Pull first: a local change is pushed only after the tracker's changes since the last sync were
                # compared with it, so a change made there is never silently overwritten.
                if pull:
                    await _pull_or_record(run)
                if push:
                    await push_pending(run)
                if report.pull_unfinished or report.pull_error:
                    break  # the next job goes on (or the error is recorded first)
                await session.refresh(link)
                if link.sync_requested_at is None or link.sync_requested_at < round_started:
                    break
        except Deferred as exc:
            error, retry_after = f"deferred: {exc}", exc.retry_after
            raise
        except AuthRevoked as exc:
            error = f"reconnect needed: {exc}"
            report.skipped = error
        except Exception as exc:
            # A connector's bug, or the database failing: the run is recorded as failed, and the job reports it.
            error = f"failed: {reason_of(exc)}"
            raise
        finally:
            await lease.stop_heartbeat()
            await session.rollback()
            record_link_change(session, user_id, system_id)
            if error is None and report.pull_error is not None:
                error = report.pull_error
            await _finish(session, sync_run, lease, report, error, deps, as_of=round_started, retry_after=retry_after)
    return report


async def _pull_or_record(run: Run) -> None:
    """Pull; a pull the tracker refuses is recorded (the run's error) and the pushes still go out."""
    try:
        await pull_changes(run)
    except (Rejected, NotFound) as exc:
        await run.session.rollback()
        await run.session.refresh(run.link)  # a rollback expires what the session holds
        run.report.pull_error = f"pull failed: {exc}"
        log.warning("pull refused by the tracker", link_id=run.link.id, reason=str(exc))


async def _link_and_system(session: AsyncSession, link_id: int) -> tuple[Link, TicketSystem] | None:
    row = (
        await session.execute(
            select(Link, TicketSystem)
            .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
            .where(
                Link.id == link_id,
                Link.enabled.is_(True),
                Link.needs_reconnect.is_(False),
                Link.access_token.is_not(None),
                TicketSystem.enabled.is_(True),
                TicketSystem.deleted_at.is_(None),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def _finish(
    session: AsyncSession,
    run: SyncRun,
    lease: Lease,
    report: SyncReport,
    error: str | None,
    deps: SyncDeps,
    *,
    as_of: datetime,
    retry_after: float | None,
) -> None:
    """Close the run and release the lease. The link counts as synced as of the last round's start: a request
    made after that may have come too late for the round, so it stays outstanding (the sweep sees it) and the
    run's job goes again at once (`requested_again`) — the request's own job was absorbed by this running one."""
    now = deps.clock()
    run.finished_at = now
    run.pushed, run.pulled, run.failed, run.conflicts = report.pushed, report.pulled, report.failed, report.conflicts
    run.error = error
    session.add(run)
    values: dict[str, Any] = {"sync_lease_owner": None, "sync_lease_until": None, "last_error": error}
    if error is None:
        values["last_sync_at"] = as_of
        values["next_sync_at"] = None
    elif error.startswith("deferred: "):
        # The runner writes the real time of its retry (`jobs.note_next_attempt`); until then, this.
        values["next_sync_at"] = now + (timedelta(seconds=retry_after) if retry_after else DEFERRED_AT_LEAST)
    requested = await session.scalar(
        update(Link)
        .where(Link.id == lease.link_id, Link.sync_lease_owner == lease.owner)
        .values(**values)
        .returning(Link.sync_requested_at)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    report.requested_again = error is None and requested is not None and requested >= as_of
