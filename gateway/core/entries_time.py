"""Time arithmetic of entries: a day's wall-clock span and its length."""

from __future__ import annotations

from datetime import time

from gateway.core.errors import InvalidInput


def duration_minutes(start: time, end: time) -> int:
    """Whole minutes from `start` to `end` on one day; entries never span midnight."""
    if end <= start:
        raise InvalidInput(
            "the end must be after the start; an entry cannot span midnight, so split it into two days",
            field="end",
        )
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
