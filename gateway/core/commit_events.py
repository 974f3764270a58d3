"""Work that must wait for a commit: announcing entry changes to plugins, enqueueing syncs of links.

Services record what happened on the session (`record_entry_change`, `record_link_to_sync`); when that
session's transaction commits, the process's `on_commit` handler (given to `create_session_factory`) receives
it all at once; a rollback forgets it. So a plugin never hears of an entry that was not stored, and a sync job
never runs before the entry it should push is visible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.connectors import EntryChange
from gateway.core.db import ON_COMMIT, GatewaySession
from gateway.core.models import Entry

_PENDING = "gateway_commit_events"


@dataclass
class CommittedWork:
    entry_changes: list[EntryChange] = field(default_factory=list)
    links_to_sync: set[int] = field(default_factory=set)


def _pending(session: AsyncSession) -> CommittedWork:
    work: CommittedWork = session.sync_session.info.setdefault(_PENDING, CommittedWork())
    return work


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


@event.listens_for(GatewaySession, "after_commit")
def _after_commit(session: Session) -> None:
    work: CommittedWork | None = session.info.pop(_PENDING, None)
    on_commit: Callable[[CommittedWork], Any] | None = session.info.get(ON_COMMIT)
    if work is not None and on_commit is not None:
        on_commit(work)


@event.listens_for(GatewaySession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
