"""Changes and deletions for trackers without a change feed: compare complete reads of a window of days.

Some trackers can list a user's worklogs by day but cannot say what changed or was deleted since a time
(Redmine). Such a connector reads the whole window (say, the last 62 days) on every pull, and hands this helper
each worklog's fingerprint (of the fields the gateway syncs, plus the tracker's update time) and day. The
helper compares them with the previous read, which it keeps in the pull's cursor:

- `changed`: new worklogs, and those whose fingerprint differs — return them in `PullPage.worklogs`;
- `vanished`: worklogs the previous read saw inside today's window and this one does not. Look each up once:
  the tracker's "not found" is a deletion (`PullPage.deleted_ids`), a worklog still there moved out of the
  window (to another day, another user) and belongs in `worklogs`;
- `cursor`: this read, for `PullPage.cursor`.

Worklogs that left the window because days passed are forgotten without a lookup. Edits to worklogs older than
the window are not seen: choose the window as long as people go back to correct their time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import msgspec


@dataclass(frozen=True, slots=True)
class WindowChanges:
    changed: list[str]
    vanished: list[str]
    cursor: str


def fingerprint(*values: object) -> str:
    """A short, stable digest of a worklog's synced fields (pass its update time too)."""
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


def compare_window(cursor: str | None, current: Mapping[str, tuple[str, date]], window_start: date) -> WindowChanges:
    """Compare this complete read (`worklog id -> (fingerprint, day)`) with the one kept in `cursor`."""
    previous: dict[str, list[str]] = msgspec.json.decode(cursor) if cursor else {}
    changed = [key for key, (print_, _day) in current.items() if previous.get(key, [None])[0] != print_]
    vanished = [
        key for key, (_print, day) in previous.items() if key not in current and date.fromisoformat(day) >= window_start
    ]
    kept = {key: [print_, day.isoformat()] for key, (print_, day) in current.items()}
    return WindowChanges(changed=changed, vanished=vanished, cursor=msgspec.json.encode(kept).decode())
