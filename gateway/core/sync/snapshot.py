"""A worklog's synced fields as one comparable value, for entries and remote worklogs alike.

The base snapshot stored after each sync is what both sides are compared against: a field that differs from
the base on one side was changed there.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, TypedDict

from gateway.connectors import RemoteWorklog
from gateway.core.models import Entry

FIELDS = ("ticket", "day", "start", "minutes", "description")


class Snapshot(TypedDict):
    ticket: str
    day: str
    # None when the tracker keeps no start time (the entry's own start then stands).
    start: str | None
    minutes: int
    description: str


def of_entry(entry: Entry) -> Snapshot:
    return Snapshot(
        ticket=entry.ticket,
        day=entry.day.isoformat(),
        start=entry.start.strftime("%H:%M"),
        minutes=entry.duration,
        description=entry.description,
    )


def of_remote(worklog: RemoteWorklog, ticket: str | None = None) -> Snapshot:
    return Snapshot(
        ticket=(ticket or worklog.ticket).strip().upper(),
        day=worklog.day.isoformat(),
        start=worklog.start.strftime("%H:%M") if worklog.start is not None else None,
        minutes=worklog.minutes,
        description=worklog.description.strip(),
    )


def base_of(worklog: RemoteWorklog, ticket: str | None = None, local_activity: str | None = None) -> dict[str, Any]:
    """The base stored after a sync: the worklog's snapshot, the gateway activity the entry had then and, for a
    tracker that keeps activities, the tracker's — so either side's later change of it can be told apart."""
    base: dict[str, Any] = dict(of_remote(worklog, ticket))
    base["local_activity"] = local_activity
    if worklog.activity is not None:
        base["activity"] = worklog.activity
    if worklog.ticket_id is not None:
        base["ticket_id"] = worklog.ticket_id
    return base


def renamed_ticket(worklog: RemoteWorklog, base: dict[str, Any] | None) -> str | None:
    """The key the gateway synced when `worklog`'s ticket is that same ticket under a new key (same stable id):
    an issue moved to another project in the tracker is a rename, not a move of the worklog, and the entry keeps
    the key its project's rules accept. None when the ticket is not known to be renamed."""
    if base is None or worklog.ticket_id is None or base.get("ticket_id") != worklog.ticket_id:
        return None
    synced = str(base.get("ticket") or "")
    return synced if synced and synced != worklog.ticket.strip().upper() else None


def ticket_id_for(ticket: str, base: dict[str, Any] | None) -> str | None:
    """The stable id of `ticket` as last synced, for addressing the worklog where keys change; None when the entry
    now names another ticket (the id belongs to the old one) or nothing was synced."""
    if base is None or str(base.get("ticket") or "") != ticket.strip().upper():
        return None
    ticket_id = base.get("ticket_id")
    return str(ticket_id) if ticket_id is not None else None


def changed_fields(snapshot: Snapshot | dict[str, Any], base: Snapshot | dict[str, Any]) -> set[str]:
    """The fields where `snapshot` differs from `base`; a missing start on either side is no difference."""
    changed = set()
    for name in FIELDS:
        mine, theirs = snapshot.get(name), base.get(name)
        if name == "start" and (mine is None or theirs is None):
            continue
        if mine != theirs:
            changed.add(name)
    return changed


def day_of(snapshot: Snapshot | dict[str, Any]) -> date:
    return date.fromisoformat(str(snapshot["day"]))


def start_of(snapshot: Snapshot | dict[str, Any], default: time) -> time:
    value = snapshot.get("start")
    return time.fromisoformat(value) if value else default


def end_of(start: time, minutes: int) -> time | None:
    """When `minutes` from `start` end on the same day; None past midnight (or for no minutes)."""
    total = start.hour * 60 + start.minute + minutes
    return time(total // 60, total % 60) if minutes > 0 and total < 24 * 60 else None
