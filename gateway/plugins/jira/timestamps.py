"""Jira's `started`: wall-clock time with milliseconds and an offset without a colon (2026-11-27T09:00:00.000+0100).

The entry's day and start are the user's local time in their Jira time zone; they are converted here, once, in
both directions. `Z` and `+01:00` are refused by Jira with a 400, so the format is written by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.connectors import Rejected

FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Rejected(f"Jira reports the time zone {name!r}, which this machine does not know") from None


def started_text(day: date, start: time, timezone: str | None) -> str:
    """The local day and start as Jira's `started` (UTC when the user's zone is unknown).

    A wall time that the zone skips (inside a daylight-saving gap) is refused: written with either offset it
    would come back an hour off, and the entry and the worklog would never agree.
    """
    where = zone(timezone) or UTC
    moment = datetime.combine(day, start, tzinfo=where)
    if moment.astimezone(UTC).astimezone(where).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise Rejected(
            f"{day.isoformat()} {start:%H:%M} does not exist in {timezone} (the clocks skip it): choose another start"
        )
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}{moment:%z}"


def parse_jira_datetime(text: str) -> datetime:
    try:
        return datetime.strptime(text, FORMAT)
    except ValueError:
        # Some answers carry an ISO offset with a colon; accept what Python can read.
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_day_and_start(text: str, timezone: str | None) -> tuple[date, time]:
    """A `started` value as the user's local day and start (UTC when the zone is unknown, as pushes write it)."""
    moment = parse_jira_datetime(text)
    local = moment.astimezone(zone(timezone) or UTC)
    return local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
