"""Three-way reconciliation, branch by branch, and as a property over many edits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.sync.reconcile import Outcome, reconcile
from gateway.core.sync.snapshot import FIELDS, Snapshot

BASE = Snapshot(ticket="TL-1", day="2026-11-24", start="09:00", minutes=60, description="Work")


def edit(**values: object) -> Snapshot:
    return Snapshot(**{**BASE, **values})  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    ("local", "remote", "outcome", "take", "clashing"),
    [
        (BASE, BASE, Outcome.UNCHANGED, set(), set()),
        (BASE, edit(minutes=45), Outcome.TAKE_REMOTE, {"minutes"}, set()),
        (edit(description="Mine"), BASE, Outcome.PUSH_LOCAL, set(), set()),
        (edit(description="Mine"), edit(description="Theirs"), Outcome.CONFLICT, set(), {"description"}),
        (edit(description="Same"), edit(description="Same"), Outcome.MERGE, set(), set()),
        (edit(minutes=90), edit(description="Theirs"), Outcome.MERGE, {"description"}, set()),
        (BASE, edit(start=None), Outcome.UNCHANGED, set(), set()),  # a tracker without start times
    ],
)
def test_branches(local: Snapshot, remote: Snapshot, outcome: Outcome, take: set[str], clashing: set[str]) -> None:
    decision = reconcile(local, remote, BASE)
    assert (decision.outcome, set(decision.take), set(decision.clashing)) == (outcome, take, clashing)


def test_without_a_base_any_difference_is_a_conflict() -> None:
    assert reconcile(BASE, BASE, None).outcome is Outcome.UNCHANGED
    assert reconcile(BASE, edit(minutes=5), None).outcome is Outcome.CONFLICT


values = {
    "ticket": st.sampled_from(["TL-1", "TL-2"]),
    "day": st.sampled_from(["2026-11-24", "2026-11-25"]),
    "start": st.sampled_from(["09:00", "10:00"]),
    "minutes": st.sampled_from([60, 30]),
    "description": st.sampled_from(["Work", "Other"]),
}
snapshots = st.fixed_dictionaries(values)


@given(local=snapshots, remote=snapshots)
def test_nothing_is_lost_whatever_both_sides_did(local: Snapshot, remote: Snapshot) -> None:
    decision = reconcile(local, remote, BASE)
    local_changed = {f for f in FIELDS if local[f] != BASE[f]}  # type: ignore[literal-required]
    remote_changed = {f for f in FIELDS if remote[f] != BASE[f]}  # type: ignore[literal-required]
    if decision.outcome is Outcome.CONFLICT:
        # Only a field both changed, to different values, is a conflict.
        assert decision.clashing
        assert all(local[f] != remote[f] for f in decision.clashing)  # type: ignore[literal-required]
        assert decision.clashing <= local_changed & remote_changed
    else:
        # Applying the taken fields to the local side loses neither side's changes.
        result = {**local, **{f: remote[f] for f in decision.take}}  # type: ignore[literal-required]
        for field in remote_changed:
            assert result[field] == remote[field]  # type: ignore[literal-required]
        for field in local_changed:
            assert result[field] == local[field]  # type: ignore[literal-required]
