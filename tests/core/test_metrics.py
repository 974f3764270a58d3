"""Metric names and labels follow Prometheus's conventions; a name or label that breaks them fails here.

https://prometheus.io/docs/practices/naming/: a single-word application prefix, snake case, base units in the
name (`_seconds`, `_bytes`), `_total` on counters and nowhere else; labels from small fixed sets, never ids of
users, entries, links or tickets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core import metrics

NAME = re.compile(r"^gateway_[a-z][a-z0-9]*(_[a-z0-9]+)*$")
# Labels every metric may carry; a new one is a decision, made here, that its values come from a small fixed set.
ALLOWED_LABELS = {
    "connector",  # installed connector names (jira, redmine, …)
    "outcome",  # a few outcomes per metric
    "result",
    "status",  # HTTP status codes
    "destination",
    "reason",
    "index",  # the entry table's index names
    # Litestar's HTTP metrics: the route template, never the concrete path
    "app_name",
    "method",
    "path",
    "status_code",
}
UNIT_WORDS = re.compile(r"(duration|latency|time|age|wait|elapsed|size|length)")
BASE_UNITS = ("seconds", "bytes", "ratio")
NON_BASE_UNITS = re.compile(r"_(milli|micro|nano)?(ms|millis|milliseconds|minutes|hours|days|kb|mb|gb|kilobytes)\b")


def convention_problems(families: Iterable[Metric]) -> list[str]:
    problems: list[str] = []
    for family in families:
        name = family.name + ("_total" if family.type == "counter" else "")
        words = name.removesuffix("_total").split("_")
        if not NAME.match(name):
            problems.append(f"{name}: not gateway_snake_case")
        if family.type == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter ends in _total")
        if family.type != "counter" and name.endswith("_total"):
            problems.append(f"{name}: only counters end in _total")
        if NON_BASE_UNITS.search(name):
            problems.append(f"{name}: use a base unit (seconds, bytes)")
        measured = family.type in ("histogram", "summary") or UNIT_WORDS.search(words[-1]) or "age" in words
        if measured and words[-1] not in BASE_UNITS:
            problems.append(f"{name}: a measured quantity names its unit (_seconds, _bytes) at the end")
        for sample in family.samples:
            for label in sample.labels:
                if label in ("le", "quantile"):
                    continue
                if label not in ALLOWED_LABELS:
                    problems.append(f"{name}: label {label!r} is not one of the bounded labels")
    return sorted(set(problems))


def registered_families() -> list[Metric]:
    """The gateway's own metric families, each with one sample so its labels show."""
    found: list[Metric] = []
    for collector in (
        metrics.SYNC_RUNS,
        metrics.SYNC_RUN_DURATION,
        metrics.SYNC_WORKLOGS,
        metrics.TRACKER_REQUESTS,
        metrics.TRACKER_REQUEST_DURATION,
        metrics.RATE_BUDGET_WAIT,
        metrics.TOKEN_REFRESHES,
        metrics.WEBHOOK_DELIVERIES,
        metrics.ENTRIES_CREATED,
        metrics.REPLICA_FALLBACKS,
    ):
        labels = ["x"] * len(collector._labelnames)  # type: ignore[attr-defined]
        child = collector.labels(*labels) if labels else collector
        if isinstance(collector, Histogram):
            child.observe(0)  # type: ignore[union-attr]
        else:
            child.inc(0)  # type: ignore[union-attr]
        found.extend(collector.collect())
    return found


def test_every_domain_metric_follows_the_conventions() -> None:
    families = registered_families()
    assert len(families) >= 10
    assert convention_problems(families) == []


async def test_the_state_metrics_follow_the_conventions(session: AsyncSession) -> None:
    families = await metrics.state_metrics(session, None)
    names = {family.name for family in families}
    assert {"gateway_entries_pending", "gateway_links_token_expiring"} <= names
    assert convention_problems(families) == []


def test_the_exposition_follows_the_conventions_including_the_framework_metrics() -> None:
    text = metrics.exposition([], None).decode()
    gateway = [f for f in text_string_to_metric_families(text) if f.name.startswith("gateway_")]
    assert convention_problems(gateway) == []


@pytest.mark.parametrize(
    ("kind", "name", "label", "problem"),
    [
        (Counter, "gateway_sync_runs", "connector", None),  # prometheus-client adds _total itself
        (Gauge, "gateway_entries_pending_total", "connector", "only counters end in _total"),
        (Histogram, "gateway_sync_run_duration", "connector", "names its unit"),
        (Histogram, "gateway_sync_run_duration_milliseconds", "connector", "base unit"),
        (Gauge, "gateway_entries_pending_oldest_age", "connector", "names its unit"),
        (Counter, "gateway_entries_created", "user_id", "label 'user_id'"),
        (Counter, "gateway_tracker_requests", "ticket", "label 'ticket'"),
        (Counter, "gatewaySyncRuns", "connector", "snake_case"),
        (Counter, "tracker_requests", "connector", "snake_case"),
    ],
)
def test_a_name_or_label_that_breaks_the_conventions_is_found(
    kind: type[Counter | Gauge | Histogram], name: str, label: str, problem: str | None
) -> None:
    metric = kind(name, "help", [label], registry=None)
    child = metric.labels("x")
    if isinstance(metric, Histogram):
        child.observe(1)  # type: ignore[union-attr]
    else:
        child.inc(1)  # type: ignore[union-attr]
    problems = convention_problems(metric.collect())
    if problem is None:
        assert problems == []
    else:
        assert any(problem in found for found in problems), problems


def test_a_sync_runs_outcome_comes_from_its_recorded_error() -> None:
    assert metrics.run_outcome(None) == "ok"
    assert metrics.run_outcome("deferred: the tracker answered 429") == "deferred"
    assert metrics.run_outcome("reconnect needed: refused") == "reconnect_needed"
    assert metrics.run_outcome("abandoned: the worker stopped before the run finished") == "abandoned"
    assert metrics.run_outcome("failed: boom") == "failed"


def test_label_values_stay_in_their_sets() -> None:
    # Outcomes and results are fixed words; a connector is a type name, never a ticket system's id or name.
    metrics.sync_run_finished("tasklog", None, 1.5, {"pushed": 2, "pulled": 0})
    values = {sample.labels.get("result") for family in metrics.SYNC_WORKLOGS.collect() for sample in family.samples}
    assert values <= {"pushed", "pulled", "failed", "conflicted", "x"}
