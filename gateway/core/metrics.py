"""The domain's Prometheus metrics: what the seed says must be watched, in one place.

Two kinds:

- **Events**, counted where they happen (sync runs, worklogs, tracker requests, rate-budget waits, token
  refreshes, webhook deliveries, entries created). They are prometheus-client metrics; with
  `PROMETHEUS_MULTIPROC_DIR` set, every process of a host writes them to that directory and any API process's
  `/metrics` shows the sum over all of them (API processes and `gateway worker`s alike).
- **States**, read from the database and Redis when `/metrics` is scraped (pending entries and the age of the
  oldest, queued jobs, links whose tokens expire within a day, entry-table size and index use). Every process
  reads the same state, so it does not matter which one answers.

Conventions (checked by `tests/core/test_metrics.py`): names are `gateway_…`, snake case, counters end in
`_total`, a unit is in the name in its base form (`_seconds`, `_bytes`); labels come from small, fixed sets
(connector names, outcomes, status codes, index names) — never a user, an entry, a link or a ticket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from redis.asyncio import Redis
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from gateway.core import integration_health
from gateway.core.db import GatewaySession
from gateway.core.enums import SyncState
from gateway.core.logs import get_logger
from gateway.core.models import Entry, Link, Project, TicketSystem

log = get_logger("gateway.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNKNOWN = "unknown"
# Sync runs last from a second to the job timeout (300 s by default).
RUN_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# The entry indexes whose use is shown (the original's names, see docs/architecture.md).
ENTRY_INDEXES = (
    "idx_entries_user_day",
    "idx_entries_day",
    "idx_entries_project",
    "idx_entries_customer",
    "idx_entries_day_start",
    "idx_entries_user_project",
    "idx_entries_user_sync",
    "idx_entries_sync_state",
)
TOKEN_EXPIRY_HORIZON = timedelta(days=1)
STATE_TIMEOUT_SECONDS = 3.0

# Every metric has labels, so none writes a file at import: the CLI prepares PROMETHEUS_MULTIPROC_DIR first.
SYNC_RUNS = Counter(
    "gateway_sync_runs_total",
    "Finished sync runs, by connector and outcome (ok, deferred, reconnect_needed, failed, abandoned).",
    ["connector", "outcome"],
)
SYNC_RUN_DURATION = Histogram(
    "gateway_sync_run_duration_seconds",
    "How long sync runs took, by connector and outcome.",
    ["connector", "outcome"],
    buckets=RUN_BUCKETS,
)
SYNC_WORKLOGS = Counter(
    "gateway_sync_worklogs_total",
    "Worklogs handled by sync runs, by connector and result (pushed, pulled, failed, conflicted).",
    ["connector", "result"],
)
TRACKER_REQUESTS = Counter(
    "gateway_tracker_requests_total",
    "HTTP requests to ticket systems, answered, by connector and status code (429: rate limited).",
    ["connector", "status"],
)
TRACKER_REQUEST_DURATION = Histogram(
    "gateway_tracker_request_duration_seconds",
    "How long ticket systems took to answer, by connector.",
    ["connector"],
    buckets=REQUEST_BUCKETS,
)
RATE_BUDGET_WAIT = Counter(
    "gateway_tracker_rate_budget_wait_seconds_total",
    "Time spent waiting for a ticket system's request budget (GATEWAY_TRACKER_RATE), by connector.",
    ["connector"],
)
TOKEN_REFRESHES = Counter(
    "gateway_token_refreshes_total",
    "Token refreshes, by connector and outcome (ok, failed, reconnect_needed).",
    ["connector", "outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "gateway_webhook_deliveries_total",
    "Webhook deliveries, by connector and outcome (accepted, duplicate, refused).",
    ["connector", "outcome"],
)
ENTRIES_CREATED = Counter(
    "gateway_entries_created_total",
    "Entries created (booked or imported), by destination: 'tracker' (synced with a ticket system) or 'local'.",
    ["destination"],
)
REPLICA_FALLBACKS = Counter(
    "gateway_replica_fallbacks_total",
    "Reads meant for the read replica that went to the primary, by reason (unreachable, lagging).",
    ["reason"],
)


# --- Which connector the current task works for -----------------------------------------------------------------

# Set where a connector is built (`gateway.core.links.build_connector`): the task that built it makes its calls, so
# tracker requests, budget waits and refreshes are labelled without passing the name through every call.
_working_for: ContextVar[tuple[str, int | None]] = ContextVar("gateway_metrics_connector", default=(UNKNOWN, None))


def working_for(connector: str, system_id: int | None = None) -> None:
    """Label what the current task (and the tasks it starts) does next with this connector and ticket system."""
    _working_for.set((connector, system_id))


def current_connector() -> str:
    return _working_for.get()[0]


# --- Events -----------------------------------------------------------------------------------------------------


def sync_run_finished(connector: str, error: str | None, seconds: float, counts: Mapping[str, int]) -> None:
    outcome = run_outcome(error)
    SYNC_RUNS.labels(connector, outcome).inc()
    SYNC_RUN_DURATION.labels(connector, outcome).observe(max(seconds, 0.0))
    for result, count in counts.items():
        if count:
            SYNC_WORKLOGS.labels(connector, result).inc(count)


def run_outcome(error: str | None) -> str:
    """A run's outcome from its recorded error (the engine writes `deferred: …`, `reconnect needed: …`, …)."""
    if error is None:
        return "ok"
    for prefix in ("deferred", "reconnect needed", "abandoned"):
        if error.startswith(prefix):
            return prefix.replace(" ", "_")
    return "failed"


def token_refreshed(connector: str, outcome: str) -> None:
    TOKEN_REFRESHES.labels(connector, outcome).inc()


def webhook_delivery(connector: str | None, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(connector or UNKNOWN, outcome).inc()


def replica_fallback(reason: str) -> None:
    REPLICA_FALLBACKS.labels(reason).inc()


async def wait_for_budget(seconds: float) -> None:
    """Sleep until a ticket system's budget has room again, and count the wait."""
    RATE_BUDGET_WAIT.labels(current_connector()).inc(max(seconds, 0.0))
    await asyncio.sleep(seconds)


# The httpx event hooks of the clients that talk to trackers: every request counted by status, and timed.
_STARTED = "gateway_metrics_started"


async def _on_request(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.monotonic()


async def _on_response(response: httpx.Response) -> None:
    connector, system_id = _working_for.get()
    if system_id is not None:
        integration_health.note_answer(system_id, response.status_code)
    TRACKER_REQUESTS.labels(connector, str(response.status_code)).inc()
    started = response.request.extensions.get(_STARTED)
    if started is not None:
        TRACKER_REQUEST_DURATION.labels(connector).observe(time.monotonic() - started)


def tracker_event_hooks() -> dict[str, list[Any]]:
    """`event_hooks` for an `httpx.AsyncClient` that talks to ticket systems."""
    return {"request": [_on_request], "response": [_on_response]}


# Entries created: counted after the commit that stored them, so a rolled-back booking does not count.
_NEW_ENTRIES = "gateway_metrics_new_entries"


@event.listens_for(GatewaySession, "after_flush")
def _note_new_entries(session: Session, _flush: UOWTransaction) -> None:
    for row in session.new:
        if isinstance(row, Entry):
            destination = "local" if row.sync_state is None else "tracker"
            counts: dict[str, int] = session.info.setdefault(_NEW_ENTRIES, {})
            counts[destination] = counts.get(destination, 0) + 1


@event.listens_for(GatewaySession, "after_commit")
def _count_new_entries(session: Session) -> None:
    for destination, count in session.info.pop(_NEW_ENTRIES, {}).items():
        ENTRIES_CREATED.labels(destination).inc(count)


@event.listens_for(GatewaySession, "after_soft_rollback")
def _forget_new_entries(session: Session, _previous: Any) -> None:
    session.info.pop(_NEW_ENTRIES, None)


# --- States, read at scrape time --------------------------------------------------------------------------------


async def state_metrics(session: AsyncSession, redis: Redis | None, *, now: datetime | None = None) -> list[Metric]:
    """The gauges read from the database (and Redis); what cannot be read is left out and logged."""
    now = now or datetime.now(UTC)
    families: list[Metric] = []
    try:
        async with asyncio.timeout(STATE_TIMEOUT_SECONDS):
            families += await _entry_states(session, now)
            families += await _link_states(session, now)
            if session.get_bind().dialect.name == "postgresql":
                families += await _table_states(session)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("metrics: the database state could not be read", error=type(exc).__name__)
    if redis is not None:
        try:
            async with asyncio.timeout(STATE_TIMEOUT_SECONDS):
                families.append(await _queue_state(redis))
        except (OSError, TimeoutError, Exception) as exc:  # redis-py raises its own and OS errors
            log.warning("metrics: the job queue could not be read", error=type(exc).__name__)
    return families


async def _entry_states(session: AsyncSession, now: datetime) -> list[Metric]:
    pending = GaugeMetricFamily(
        "gateway_entries_pending",
        "Entries waiting to be pushed to a ticket system, by connector.",
        labels=["connector"],
    )
    oldest = GaugeMetricFamily(
        "gateway_entries_pending_oldest_age_seconds",
        "Age of the oldest pending entry (since its last change), by connector.",
        labels=["connector"],
    )
    rows = await session.execute(
        select(TicketSystem.type, func.count(), func.min(Entry.updated_at))
        .select_from(Entry)
        .join(Project, Project.id == Entry.project_id)
        .join(TicketSystem, TicketSystem.id == Project.ticket_system_id)
        .where(Entry.sync_state == SyncState.PENDING, Entry.deleted_at.is_(None))
        .group_by(TicketSystem.type)
    )
    for connector, count, first in rows.all():
        pending.add_metric([connector], count)
        if first is not None:
            first = first if first.tzinfo else first.replace(tzinfo=UTC)
            oldest.add_metric([connector], max((now - first).total_seconds(), 0.0))
    return [pending, oldest]


async def _link_states(session: AsyncSession, now: datetime) -> list[Metric]:
    expiring = GaugeMetricFamily(
        "gateway_links_token_expiring",
        "Connected links whose access token expires within a day (or has expired), by connector.",
        labels=["connector"],
    )
    reconnect = GaugeMetricFamily(
        "gateway_links_reconnect_needed", "Links whose grant the tracker refused, by connector.", labels=["connector"]
    )
    connected = (Link.enabled.is_(True), Link.access_token.is_not(None), TicketSystem.deleted_at.is_(None))
    rows = await session.execute(
        select(TicketSystem.type, func.count())
        .select_from(Link)
        .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
        .where(*connected, Link.needs_reconnect.is_(False), Link.token_expires_at <= now + TOKEN_EXPIRY_HORIZON)
        .group_by(TicketSystem.type)
    )
    for connector, count in rows.all():
        expiring.add_metric([connector], count)
    rows = await session.execute(
        select(TicketSystem.type, func.count())
        .select_from(Link)
        .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
        .where(Link.enabled.is_(True), Link.needs_reconnect.is_(True), TicketSystem.deleted_at.is_(None))
        .group_by(TicketSystem.type)
    )
    for connector, count in rows.all():
        reconnect.add_metric([connector], count)
    return [expiring, reconnect]


async def _table_states(session: AsyncSession) -> list[Metric]:
    """PostgreSQL's own statistics: the entry table's size and estimated rows, and how often each index is used."""
    size = GaugeMetricFamily("gateway_entries_table_size_bytes", "The entry table with its indexes and TOAST, on disk.")
    rows = GaugeMetricFamily("gateway_entries_table_rows", "Rows in the entry table, as PostgreSQL estimates them.")
    scans = CounterMetricFamily(
        "gateway_db_index_scans", "Scans of each entry index since the statistics were reset.", labels=["index"]
    )
    found = (
        await session.execute(
            text("SELECT pg_total_relation_size('entries'), reltuples FROM pg_class WHERE oid = 'entries'::regclass")
        )
    ).first()
    if found is not None:
        size.add_metric([], found[0])
        rows.add_metric([], max(found[1], 0))
    used = await session.execute(
        text("SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'entries'")
    )
    for name, count in used.all():
        if name in ENTRY_INDEXES:
            scans.add_metric([name], count)
    return [size, rows, scans]


async def _queue_state(redis: Redis) -> Metric:
    from arq.constants import default_queue_name

    depth = GaugeMetricFamily("gateway_jobs_queued", "Jobs waiting in the arq queue (due now or later).")
    depth.add_metric([], await redis.zcard(default_queue_name))
    return depth


# --- Exposition -------------------------------------------------------------------------------------------------


class _SettledFiles(MultiProcessCollector):
    """prometheus-client's multiprocess collector, leaving out a file another process has just created and not yet
    sized (reading one fails the whole scrape); its values appear with the next scrape."""

    def collect(self) -> Any:
        files = []
        for path in Path(self._path).glob("*.db"):
            try:
                if path.stat().st_size >= 8:
                    files.append(str(path))
            except FileNotFoundError:  # a live gauge of a process that just ended
                continue
        return self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]


class _Fixed:
    """A collector that yields metric families computed beforehand (the async state reads)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


def exposition(states: Iterable[Metric], multiprocess_dir: str | None) -> bytes:
    """The text exposition of this process's metrics (or, with a multiprocess directory, every process's) and
    the state gauges."""
    if multiprocess_dir:
        registry = CollectorRegistry()
        _SettledFiles(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_Fixed(states))
    return generate_latest(registry) + generate_latest(extra)
