"""Work that must wait for a commit: announcing entry changes to plugins, enqueueing syncs of links, telling
open pages what changed.

Services record what happened on the session (`record_entry_change`, `record_link_to_sync`); when that
session's transaction commits, the process's `on_commit` handler (given to `create_session_factory`) receives
it all at once; a rollback forgets it. So a plugin never hears of an entry that was not stored, and a sync job
never runs before the entry it should push is visible.

Live updates need no call from the services: every flushed change of an entry or a link is noted here, whichever
code path made it (the API, the sync engine, a conflict settled), and the last state of each is announced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from gateway.connectors import EntryChange
from gateway.core.db import ON_COMMIT, GatewaySession
from gateway.core.live import EntryEvent, LinkEvent, LiveEvent
from gateway.core.models import Entry, Link

_PENDING = "gateway_commit_events"


@dataclass
class CommittedWork:
    entry_changes: list[EntryChange] = field(default_factory=list)
    links_to_sync: set[int] = field(default_factory=set)
    # The last state of each changed entry and link, keyed so that a later flush replaces an earlier one.
    live_events: dict[tuple[str, int, int], LiveEvent] = field(default_factory=dict)


def _pending(session: AsyncSession) -> CommittedWork:
    return _pending_of(session.sync_session)


def _pending_of(session: Session) -> CommittedWork:
    work: CommittedWork = session.info.setdefault(_PENDING, CommittedWork())
    return work


def record_link_change(session: AsyncSession, user_id: int, ticket_system_id: int) -> None:
    """For link changes made by plain UPDATE statements, which the flush does not see (sync leases, results)."""
    _pending(session).live_events[("link", user_id, ticket_system_id)] = LinkEvent(
        user_id=user_id, ticket_system_id=ticket_system_id
    )


def record_link_to_sync(session: AsyncSession, link_id: int) -> None:
    _pending(session).links_to_sync.add(link_id)


def record_entry_change(session: AsyncSession, entry: Entry, action: str) -> None:
    change = EntryChange(
        action=action,
        entry_id=entry.id,
        entry_uuid=entry.uuid,
        user_id=entry.user_id,
        day=entry.day,
        start=entry.start,
        end=entry.end,
        duration=entry.duration,
        project_id=entry.project_id,
        activity_id=entry.activity_id,
        ticket=entry.ticket,
        description=entry.description,
    )
    _pending(session).entry_changes.append(change)


@event.listens_for(GatewaySession, "after_flush")
def _note_live_changes(session: Session, _flush: UOWTransaction) -> None:
    live = _pending_of(session).live_events
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Entry):
            # The flushed values, read without loading anything (no I/O may happen inside a flush hook).
            values = inspect(row).dict
            if {"id", "user_id", "day"} <= values.keys():
                live[("entry", values["id"], 0)] = EntryEvent(
                    user_id=values["user_id"],
                    entry_id=values["id"],
                    day=values["day"],
                    version=values.get("version", 1),
                    sync_state=values.get("sync_state"),
                    sync_error=values.get("sync_error"),
                    deleted=values.get("deleted_at") is not None or row in session.deleted,
                )
        elif isinstance(row, Link):
            values = inspect(row).dict
            if "user_id" in values and "ticket_system_id" in values:
                key = ("link", values["user_id"], values["ticket_system_id"])
                live[key] = LinkEvent(user_id=values["user_id"], ticket_system_id=values["ticket_system_id"])


@event.listens_for(GatewaySession, "after_commit")
def _after_commit(session: Session) -> None:
    work: CommittedWork | None = session.info.pop(_PENDING, None)
    on_commit: Callable[[CommittedWork], Any] | None = session.info.get(ON_COMMIT)
    if work is not None and on_commit is not None:
        on_commit(work)


@event.listens_for(GatewaySession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
