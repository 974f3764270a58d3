"""The sync run history: housekeeping, and the metrics of every run that finishes.

A run is recorded by the sync engine as a `SyncRun` row that gets its `finished_at` when the run ends. The
listener below notes each run whose finish a transaction flushed and counts it once that transaction commits
(`gateway.core.metrics`), so the engine itself needs no metrics calls and a rolled-back finish is not counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction, attributes

from gateway.core import metrics
from gateway.core.db import GatewaySession
from gateway.core.models import Link, SyncRun, TicketSystem

ABANDONED = "abandoned: the worker stopped before the run finished"
_FINISHED = "gateway_finished_sync_runs"


async def close_abandoned_runs(session: AsyncSession, *, now: datetime, max_age: timedelta) -> int:
    """Mark runs still open after `max_age` as finished with an error; return how many there were.

    A worker killed mid-run never closes its run; without this the run would show as "running" forever.
    """
    result = await session.execute(
        update(SyncRun)
        .where(SyncRun.finished_at.is_(None), SyncRun.started_at < now - max_age)
        .values(finished_at=now, error=ABANDONED)
        .returning(SyncRun.link_id, SyncRun.started_at)
    )
    closed = result.all()
    if closed:
        connectors = dict(
            (
                await session.execute(
                    select(Link.id, TicketSystem.type)
                    .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
                    .where(Link.id.in_({link_id for link_id, _ in closed}))
                )
            ).all()
        )
        for link_id, started_at in closed:
            connector = connectors.get(link_id, metrics.UNKNOWN)
            _pending(session.sync_session).append((connector, ABANDONED, _seconds(started_at, now), {}))
    return len(closed)


def _pending(session: Session) -> list[tuple[str, str | None, float, dict[str, int]]]:
    finished: list[tuple[str, str | None, float, dict[str, int]]] = session.info.setdefault(_FINISHED, [])
    return finished


def _seconds(started: datetime, finished: datetime) -> float:
    if (started.tzinfo is None) != (finished.tzinfo is None):  # SQLite hands back naive times
        started, finished = started.replace(tzinfo=None), finished.replace(tzinfo=None)
    return (finished - started).total_seconds()


def _connector_of(session: Session, link_id: int) -> str:
    # On the connection, not the session: a query through the session would flush again inside this flush.
    connector = (
        session.connection()
        .execute(
            select(TicketSystem.type).join(Link, Link.ticket_system_id == TicketSystem.id).where(Link.id == link_id)
        )
        .scalar()
    )
    return connector or metrics.UNKNOWN


@event.listens_for(GatewaySession, "after_flush")
def _note_finished_runs(session: Session, _flush: UOWTransaction) -> None:
    for row in (*session.new, *session.dirty):
        if not isinstance(row, SyncRun) or row.finished_at is None:
            continue
        history = attributes.get_history(row, "finished_at")
        if not history.added or any(before is not None for before in history.deleted or ()):
            continue  # finished earlier; this flush changed something else
        counts = {"pushed": row.pushed, "pulled": row.pulled, "failed": row.failed, "conflicted": row.conflicts}
        seconds = _seconds(row.started_at, row.finished_at)
        _pending(session).append((_connector_of(session, row.link_id), row.error, seconds, counts))


@event.listens_for(GatewaySession, "after_commit")
def _count_finished_runs(session: Session) -> None:
    for connector, error, seconds, counts in session.info.pop(_FINISHED, []):
        metrics.sync_run_finished(connector, error, seconds, counts)


@event.listens_for(GatewaySession, "after_soft_rollback")
def _forget_finished_runs(session: Session, _previous: Any) -> None:
    session.info.pop(_FINISHED, None)
