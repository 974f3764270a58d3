from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.day_classes import classify_day
from gateway.core.enums import EntryClass

D, P, PA, OV = EntryClass.DAYBREAK, EntryClass.PLAIN, EntryClass.PAUSE, EntryClass.OVERLAP


def t(text: str) -> time:
    return time.fromisoformat(text)


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([], []),
        ([("08:00", "09:00")], [D]),
        ([("08:00", "09:00"), ("09:00", "10:00")], [D, P]),
        ([("08:00", "09:00"), ("09:30", "10:00")], [D, PA]),
        ([("08:00", "09:00"), ("08:30", "10:00")], [D, OV]),
        ([("08:00", "12:00"), ("09:00", "10:00"), ("10:00", "11:00")], [D, OV, P]),
        ([("08:00", "09:00"), ("09:00", "09:30"), ("10:00", "11:00"), ("10:30", "12:00")], [D, P, PA, OV]),
    ],
)
def test_classes_of_a_day(spans: list[tuple[str, str]], expected: list[EntryClass]) -> None:
    assert classify_day([(t(start), t(end)) for start, end in spans]) == expected


def at(minute: int) -> time:
    return time(minute // 60, minute % 60)


@st.composite
def built_day(draw: st.DrawFn) -> tuple[list[tuple[time, time]], list[EntryClass]]:
    """A day built entry by entry from how each one starts relative to the previous end."""
    start = draw(st.integers(min_value=0, max_value=120))
    length = draw(st.integers(min_value=1, max_value=90))
    spans, expected = [(start, start + length)], [D]
    for _ in range(draw(st.integers(min_value=0, max_value=10))):
        previous_start, previous_end = spans[-1]
        kind = draw(st.sampled_from([P, PA, OV]))
        if kind is P:
            start = previous_end
        elif kind is PA:
            start = previous_end + draw(st.integers(min_value=1, max_value=30))
        else:  # starts inside the previous entry, after its start, so the day stays ordered by start
            if previous_end - previous_start < 2:
                continue
            start = previous_end - draw(st.integers(min_value=1, max_value=previous_end - previous_start - 1))
        spans.append((start, start + draw(st.integers(min_value=1, max_value=90))))
        expected.append(kind)
    return [(at(a), at(b)) for a, b in spans], expected


@given(built_day())
def test_each_entry_is_classed_by_where_it_starts_against_the_previous_end(
    day: tuple[list[tuple[time, time]], list[EntryClass]],
) -> None:
    spans, expected = day
    assert classify_day(spans) == expected
