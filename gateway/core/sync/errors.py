"""The errors of a sync run that are not the tracker's own."""

from __future__ import annotations

from gateway.core.errors import Conflict
from gateway.core.sync.deferred import Deferred

NEEDS_REFRESH = "the link's access token has expired; the next sync refreshes it first, preview after that"


class PreviewUnavailable(Conflict):
    """A dry run cannot go on without writing: the link's token must be refreshed first."""


class LeaseLost(Deferred):
    """Another runner took the link (this run's lease lapsed): stop before the next remote write, retry later."""
