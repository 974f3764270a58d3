"""The audit trail of entries: who changed which fields, when, from what to what."""

from __future__ import annotations

from datetime import date, time
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.models import Entry, EntryRevision

# The fields of an entry a revision records; bookkeeping (version, sync state, timestamps) is left out.
AUDITED_FIELDS = (
    "user_id",
    "day",
    "start",
    "end",
    "duration",
    "customer_id",
    "project_id",
    "activity_id",
    "account_id",
    "ticket",
    "description",
)


def audited_values(entry: Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AUDITED_FIELDS}


def json_value(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def record_revision(
    session: AsyncSession,
    entry: Entry,
    *,
    author_id: int | None,
    source: str,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> EntryRevision | None:
    """Store the fields that differ between `before` and `after`; nothing when nothing changed."""
    revision = revision_of(entry, author_id=author_id, source=source, action=action, before=before, after=after)
    if revision is None:
        return None
    session.add(revision)
    await session.flush()
    return revision


def revision_of(
    entry: Entry,
    *,
    author_id: int | None,
    source: str,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> EntryRevision | None:
    """The revision of a change (unsaved; `entry` must have its id), or None when nothing changed."""
    changes = {
        name: [json_value(before.get(name)), json_value(after.get(name))]
        for name in AUDITED_FIELDS
        if before.get(name) != after.get(name)
    }
    if not changes and action == "update":
        return None
    return EntryRevision(entry_id=entry.id, author_id=author_id, source=source, action=action, changes=changes)


async def list_revisions(session: AsyncSession, entry_id: int) -> list[EntryRevision]:
    stmt = select(EntryRevision).where(EntryRevision.entry_id == entry_id)
    return list((await session.scalars(stmt.order_by(EntryRevision.created_at, EntryRevision.id))).all())
