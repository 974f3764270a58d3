"""The HTTP client every connector call of a process goes through: one per process (API, worker, CLI)."""

from __future__ import annotations

import httpx

from gateway import __version__
from gateway.core.metrics import tracker_event_hooks

# Trackers answer slowly under load (Jira's search, Redmine's time entry reports), but a connect that takes
# longer than this means the tracker is not there.
TRACKER_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Enough connections for the push lanes of every run a worker may have going at once.
TRACKER_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=40)


def tracker_http_client() -> httpx.AsyncClient:
    """A new client for talking to trackers; the caller closes it (`aclose`) when the process ends."""
    return httpx.AsyncClient(
        timeout=TRACKER_TIMEOUT,
        limits=TRACKER_LIMITS,
        headers={"User-Agent": f"timetracker-gateway/{__version__}"},
        event_hooks=tracker_event_hooks(),  # requests by system and status, for /metrics and /health/integrations
    )
