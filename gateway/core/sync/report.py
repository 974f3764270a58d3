"""What a sync run did (or, in a dry run, would do): its events and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """One thing a run did (or, in a dry run, would do)."""

    action: str
    entry_id: int | None
    ticket: str
    worklog_id: str | None = None
    detail: str | None = None


# What each action counts as in the report.
_COUNTED: dict[str, tuple[str, ...]] = {
    "created": ("created", "pushed"),
    "updated": ("updated", "pushed"),
    "moved": ("updated", "pushed"),
    "adopted": ("adopted", "pushed"),
    "deleted": ("deleted",),
    "failed": ("failed",),
    "imported": ("imported",),
    "unmapped": ("unmapped",),
    "taken": ("taken",),
    "conflict": ("conflicts",),
    "remote_deleted": ("remote_deleted",),
}


@dataclass
class SyncReport:
    link_id: int
    skipped: str | None = None
    # Set when another runner holds the link: until when its lease lasts.
    busy_until: datetime | None = None
    # Worklogs written to the tracker (created, updated, adopted after a lost answer), and deleted there.
    pushed: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    deleted: int = 0
    # Worklogs read from the tracker, entries made from them, entries that took the tracker's changes.
    pulled: int = 0
    imported: int = 0
    taken: int = 0
    failed: int = 0
    conflicts: int = 0
    remote_deleted: int = 0
    unmapped: int = 0
    events: list[SyncEvent] = field(default_factory=list)
    # How many events to keep (None: all, as a preview shows them); a real run keeps the first few and counts
    # the rest, so a 100 000-worklog import stays small.
    keep_events: int | None = None
    # A sync was asked for after the last round had started: the run may have missed it, so it runs again.
    requested_again: bool = False
    # The pull stopped at its time bound with pages left: the next job goes on from the last committed page.
    pull_unfinished: bool = False
    # The tracker refused the pull (or it failed for good): why. The pushes still ran.
    pull_error: str | None = None

    def note(
        self, action: str, entry_id: int | None, ticket: str, worklog_id: str | None = None, detail: str | None = None
    ) -> None:
        if self.keep_events is None or len(self.events) < self.keep_events:
            self.events.append(SyncEvent(action, entry_id, ticket, worklog_id, detail))
        for counter in _COUNTED[action]:
            setattr(self, counter, getattr(self, counter) + 1)

    @property
    def again(self) -> bool:
        """The link should sync again at once (in a new job)."""
        return self.requested_again or self.pull_unfinished
