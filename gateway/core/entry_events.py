"""Announcing committed entry changes to plugins, after the commit and only then.

Services record a change on the session (`record_entry_change`); when that session's transaction commits, every
recorded change is handed to the plugins' `gateway_entry_committed` hook; a rollback forgets them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, time
from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from gateway.core.db import NOTIFY_ENTRY_COMMITTED, GatewaySession
from gateway.core.models import Entry

_PENDING = "gateway_entry_changes"


class EntryChange(msgspec.Struct, kw_only=True, frozen=True):
    """A committed change of one entry: `action` is create, update or delete; values are as after the change."""

    action: str
    entry_id: int
    entry_uuid: uuid.UUID
    user_id: int
    day: date
    start: time
    end: time
    duration: int
    project_id: int
    activity_id: int
    ticket: str
    description: str


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
    session.sync_session.info.setdefault(_PENDING, []).append(change)


@event.listens_for(GatewaySession, "after_commit")
def _after_commit(session: Session) -> None:
    changes: list[EntryChange] = session.info.pop(_PENDING, [])
    notify: Callable[[EntryChange], Any] | None = session.info.get(NOTIFY_ENTRY_COMMITTED)
    if notify is not None:
        for change in changes:
            notify(change)


@event.listens_for(GatewaySession, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
