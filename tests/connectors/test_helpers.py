"""The helpers of the public connector package: markers in text, wall-clock times and instants, window
comparison for trackers without a change feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.connectors import (
    Rejected,
    add_marker,
    compare_window,
    fingerprint,
    split_marker,
    to_instant,
    to_wall_clock,
)

MARKER = "0b9c1f44-5a43-4d3e-9bd0-5d0b1c1f4a21"


def test_a_marker_goes_at_the_end_and_comes_off_again() -> None:
    text = add_marker("Fix login", MARKER)
    assert text == f"Fix login [tt:{MARKER}]"
    assert split_marker(text) == ("Fix login", MARKER)
    assert split_marker("No marker here") == ("No marker here", None)
    assert split_marker("[tt:] is not one") == ("[tt:] is not one", None)


def test_a_long_text_is_cut_so_the_marker_fits() -> None:
    text = add_marker("x" * 2000, MARKER, max_length=1024)
    assert len(text) == 1024
    assert split_marker(text) == ("x" * (1024 - len(f" [tt:{MARKER}]")), MARKER)


@given(st.text(), st.from_regex(r"[A-Za-z0-9-]{1,64}", fullmatch=True))
def test_any_text_and_marker_round_trip(description: str, marker: str) -> None:
    text, found = split_marker(add_marker(description, marker))
    assert found == marker
    assert text == description.rstrip()


def test_wall_clock_times_become_instants_in_the_accounts_zone_and_back() -> None:
    berlin = to_instant(date(2026, 3, 29), time(9, 0), "Europe/Berlin")  # the day clocks go forward
    assert berlin.utcoffset() is not None
    assert berlin.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert to_wall_clock(berlin, "Europe/Berlin") == (date(2026, 3, 29), time(9, 0))
    # Seen from New York the same instant is another day's small hours.
    assert to_wall_clock(datetime(2026, 3, 29, 2, 30, tzinfo=UTC), "America/New_York") == (
        date(2026, 3, 28), time(22, 30),
    )  # fmt: skip
    # A time the spring change skips is moved forward, not invented.
    skipped = to_instant(date(2026, 3, 29), time(2, 30), "Europe/Berlin")
    assert skipped.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert to_instant(date(2026, 1, 5), time(8, 0), None) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with pytest.raises(Rejected, match="Mars/Olympus"):
        to_instant(date(2026, 1, 5), time(8, 0), "Mars/Olympus")


def test_the_window_comparison_finds_changes_and_what_vanished() -> None:
    start = date(2026, 11, 1)
    first = compare_window(None, {"1": ("a", date(2026, 11, 2)), "2": ("b", date(2026, 11, 3))}, start)
    assert (first.changed, first.vanished) == (["1", "2"], [])

    # 1 changed, 2 vanished, 3 is new.
    second = compare_window(first.cursor, {"1": ("a2", date(2026, 11, 2)), "3": ("c", date(2026, 11, 4))}, start)
    assert (second.changed, second.vanished) == (["1", "3"], ["2"])

    # Nothing changed: nothing reported.
    third = compare_window(second.cursor, {"1": ("a2", date(2026, 11, 2)), "3": ("c", date(2026, 11, 4))}, start)
    assert (third.changed, third.vanished) == ([], [])

    # Days passed: 1 left the window by its date, which is no deletion.
    later = compare_window(third.cursor, {"3": ("c", date(2026, 11, 4))}, date(2026, 11, 3))
    assert (later.changed, later.vanished) == ([], [])


def test_the_window_cursor_is_plain_json_and_fingerprints_are_stable() -> None:
    cursor = compare_window(None, {"7": (fingerprint("2026-11-24T10:00:00Z", 1.5), date(2026, 11, 24))}, date.min)
    assert msgspec.json.decode(cursor.cursor.encode()) == {
        "7": [fingerprint("2026-11-24T10:00:00Z", 1.5), "2026-11-24"]
    }
    assert fingerprint("a", 1) != fingerprint("a", 2)
    assert len(fingerprint("a")) == 16
