"""Three-way reconciliation of one worklog: what the gateway has, what the tracker has, and what was synced.

A pure function, so each branch is a table row in its tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.core.sync.snapshot import Snapshot, changed_fields


class Outcome(StrEnum):
    UNCHANGED = "unchanged"  # neither side changed since the last sync
    TAKE_REMOTE = "take_remote"  # only the tracker changed: the entry follows
    PUSH_LOCAL = "push_local"  # only the gateway changed: the next push writes it
    MERGE = "merge"  # both changed, different fields: take the tracker's fields, push the result
    CONFLICT = "conflict"  # both changed the same field: keep both, ask the user


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    # The fields to copy from the remote worklog into the entry (TAKE_REMOTE and MERGE).
    take: frozenset[str] = frozenset()
    # The fields both sides changed (CONFLICT).
    clashing: frozenset[str] = frozenset()


def reconcile(local: Snapshot, remote: Snapshot, base: Snapshot | dict[str, Any] | None) -> Decision:
    """Decide for one worklog. Without a base (never synced), any difference counts as a change on both sides."""
    if base is None:
        differing = changed_fields(remote, local)
        if not differing:
            return Decision(Outcome.UNCHANGED)
        return Decision(Outcome.CONFLICT, clashing=frozenset(differing))
    remote_changed = changed_fields(remote, base)
    local_changed = changed_fields(local, base)
    if not remote_changed:
        return Decision(Outcome.PUSH_LOCAL if local_changed else Outcome.UNCHANGED)
    if not local_changed:
        return Decision(Outcome.TAKE_REMOTE, take=frozenset(remote_changed))
    clashing = {name for name in remote_changed & local_changed if remote.get(name) != local.get(name)}
    if clashing:
        return Decision(Outcome.CONFLICT, clashing=frozenset(clashing))
    return Decision(Outcome.MERGE, take=frozenset(remote_changed - local_changed))
