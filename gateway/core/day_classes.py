"""The class of each entry within its day, as the original TimeTracker computes it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from gateway.core.enums import EntryClass


def classify_day(spans: Sequence[tuple[time, time]]) -> list[EntryClass]:
    """Classes for one user's entries of one day, given as (start, end) ordered by start.

    The first entry is DAYBREAK; each later one is PAUSE when it starts after the previous end, OVERLAP when
    it starts before it, and PLAIN when it starts exactly at it. "Previous end" is the end of the entry just
    before, as in the original, so an entry inside a long one is an OVERLAP and the next one is judged against
    the inner entry's end.
    """
    classes: list[EntryClass] = []
    previous_end: time | None = None
    for start, end in spans:
        if previous_end is None:
            classes.append(EntryClass.DAYBREAK)
        elif start > previous_end:
            classes.append(EntryClass.PAUSE)
        elif start < previous_end:
            classes.append(EntryClass.OVERLAP)
        else:
            classes.append(EntryClass.PLAIN)
        previous_end = end
    return classes
