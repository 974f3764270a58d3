"""Wall-clock times and instants, for trackers that store worklogs as instants.

The gateway keeps an entry's day and start as the user booked them, in their own local time, without a zone
(`WorklogDraft`). A tracker that keeps a date and a local time (Redmine's `spent_on`) takes them unchanged: no
conversion. A tracker that keeps an instant (Jira's `started`) needs the zone the worklog should appear in: the
tracker account's (`Credentials.timezone`, from `RemoteAccount.timezone`), so the tracker shows the entry on the
day and at the time it was booked. Without a zone, UTC; a zone this machine does not know is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.connectors._errors import Rejected


def zone(name: str | None) -> tzinfo:
    """The IANA zone `name` (UTC for None); `Rejected` for a name this machine does not know."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Rejected(f"the tracker reports the time zone {name!r}, which this machine does not know") from None


def to_instant(day: date, start: time, timezone: str | None) -> datetime:
    """The instant at which `day` `start` happens in `timezone` (a time skipped by a DST change moves forward)."""
    local = datetime.combine(day, start, tzinfo=zone(timezone))
    # Round trip through UTC: a wall-clock time inside a spring-forward gap becomes a real instant.
    return local.astimezone(UTC).astimezone(local.tzinfo)


def to_wall_clock(instant: datetime, timezone: str | None) -> tuple[date, time]:
    """The day and the start (to the minute) that `instant` shows in `timezone`."""
    local = instant.astimezone(zone(timezone))
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)
