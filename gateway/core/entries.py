"""Time entries: booking, changing and deleting them under the seed's rules, and reading them within view.

Each write happens in the caller's transaction: the entry, its revision, its recomputed day classes and its sync
state are committed together or not at all. Writes for one user are serialised by locking the user's row, so
the day classes of concurrent bookings cannot interleave.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import msgspec
from sqlalchemy import Select, String, case, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from gateway.core.auth.caller import Caller
from gateway.core.commit_events import record_entry_change
from gateway.core.crud import get_one, given_fields
from gateway.core.day_classes import classify_day
from gateway.core.entry_rules import (
    Description,
    Ticket,
    check_entry,
    next_sync_state,
    parse_wall_time,
)
from gateway.core.enums import EntryClass, SyncState
from gateway.core.errors import Conflict, InvalidInput, PermissionDenied, PreconditionRequired
from gateway.core.listing import KeyColumn, KeyPage, Page, PageRequest, fetch_key_page, fetch_page
from gateway.core.master_data.types import Id, WallTime
from gateway.core.models import Entry, User
from gateway.core.revisions import audited_values, record_revision
from gateway.core.sync_requests import request_sync_for_entry
from gateway.core.ticket_check import TicketChecker
from gateway.core.tickets import normalise_ticket
from gateway.core.visibility import visible_entries

API_SOURCE = "api"


class EntryCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    day: date
    start: WallTime
    end: WallTime
    project_id: Id
    activity_id: Id
    customer_id: Id | None = None
    account_id: Id | None = None
    ticket: Ticket = ""
    description: Description = ""
    # Only an ADMIN books time for someone else.
    user_id: Id | None = None


class EntryUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # The version the change is based on (or send it as If-Match); a stale one is refused with 409.
    version: Id | msgspec.UnsetType = msgspec.UNSET
    day: date | msgspec.UnsetType = msgspec.UNSET
    start: WallTime | msgspec.UnsetType = msgspec.UNSET
    end: WallTime | msgspec.UnsetType = msgspec.UNSET
    project_id: Id | msgspec.UnsetType = msgspec.UNSET
    activity_id: Id | msgspec.UnsetType = msgspec.UNSET
    customer_id: Id | msgspec.UnsetType = msgspec.UNSET
    account_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    ticket: Ticket | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET


class EntryFilter(msgspec.Struct, kw_only=True):
    first_day: date | None = None
    last_day: date | None = None
    # None: the caller's own entries; ALL_USERS: every entry the caller can see; an id: that user's.
    user_id: int | None = None
    all_users: bool = False
    customer_id: int | None = None
    project_id: int | None = None
    activity_id: int | None = None
    ticket: str | None = None
    sync_state: SyncState | None = None


class EntryOut(msgspec.Struct, kw_only=True):
    """An entry as the API shows it; built by `entry_out` from an `Entry` or from a row of `ENTRY_OUT_COLUMNS`."""

    id: int
    uuid: uuid.UUID
    user_id: int
    day: date
    start_text: str = msgspec.field(name="start")
    end_text: str = msgspec.field(name="end")
    duration: int
    customer_id: int
    project_id: int
    activity_id: int
    account_id: int | None
    ticket: str
    description: str
    class_name: str = msgspec.field(name="class")
    worklog_id: str | None
    sync_state: SyncState | None
    sync_error: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def entry_out(entry: Any) -> EntryOut:
    """The one conversion to `EntryOut`, by attribute: an `Entry` (its `start_text`, `end_text` and `class_name`
    properties) or a row selected with `ENTRY_OUT_COLUMNS`."""
    return msgspec.convert(entry, EntryOut, from_attributes=True)


def entries_out(rows: Sequence[Any]) -> list[EntryOut]:
    return msgspec.convert(rows, list[EntryOut], from_attributes=True)


def _wall_clock_text(column: Any) -> Any:
    # HH:MM of a time column, in SQL both dialects speak: PostgreSQL's time as text is "09:00:00", SQLite stores
    # "09:00:00.000000".
    return func.substr(cast(column, String), 1, 5)


_COMPUTED = {
    "start_text": _wall_clock_text(Entry.start),
    "end_text": _wall_clock_text(Entry.end),
    "class_name": case(*((Entry.entry_class == member, member.name) for member in EntryClass)),
}
# The columns of a list of entries, one per `EntryOut` field and named after it: rows convert without an ORM object.
ENTRY_OUT_COLUMNS = [
    _COMPUTED[name].label(name) if name in _COMPUTED else getattr(Entry, name) for name in EntryOut.__struct_fields__
]
# The entry list's order, and the key of its pages: newest day and start first, ties by id.
ENTRY_KEY = (
    KeyColumn(Entry.day, descending=True, parse=date.fromisoformat),
    KeyColumn(Entry.start, descending=True, parse=time.fromisoformat),
    KeyColumn(Entry.id, descending=False, parse=int),
)


SORTABLE = {
    "day": Entry.day,
    "start": Entry.start,
    "id": Entry.id,
    "duration": Entry.duration,
    "ticket": Entry.ticket,
    "user_id": Entry.user_id,
    "project_id": Entry.project_id,
}


def _visible(caller: Caller) -> Select[Entry]:
    return visible_entries(select(Entry).where(Entry.deleted_at.is_(None)), caller)


async def list_entries(session: AsyncSession, caller: Caller, filters: EntryFilter, page: PageRequest) -> Page[Entry]:
    """A page of entries (ORM objects) by offset, in the order `page.sort` asks for (default: `ENTRY_KEY`'s)."""
    return await fetch_page(
        session,
        _filtered(_visible(caller), caller, filters),
        page,
        sortable=SORTABLE,
        default_order=[Entry.day.desc(), Entry.start.desc()],
        tiebreaker=Entry.id,
    )


async def list_entries_out(
    session: AsyncSession, caller: Caller, filters: EntryFilter, page: PageRequest, *, cursor: str | None, count: bool
) -> KeyPage[EntryOut]:
    """A page of entries as the API shows them, read as rows and converted by msgspec.

    Without `sort` or `offset` the list pages by key (`cursor`; `count` asks for the total); with either, by
    offset with its total (the deprecated way: a deep offset costs a sort of everything before it).
    """
    # `start` itself rides along for the cursor (the output shows HH:MM; a key needs the full time).
    columns = select(*ENTRY_OUT_COLUMNS, Entry.start).where(Entry.deleted_at.is_(None))
    stmt = _filtered(visible_entries(columns, caller), caller, filters)
    if page.sort or page.offset_given:
        if cursor is not None:
            raise InvalidInput("a cursor pages the default order: leave out sort and offset", field="cursor")
        found = await fetch_page(
            session,
            stmt,
            page,
            sortable=SORTABLE,
            default_order=[Entry.day.desc(), Entry.start.desc()],
            tiebreaker=Entry.id,
            rows=True,
        )
        return KeyPage(items=entries_out(found.items), total=found.total, limit=found.limit, next_cursor=None)
    keyed = await fetch_key_page(
        session,
        stmt,
        key=ENTRY_KEY,
        limit=page.limit,
        cursor=cursor,
        count=count,
        key_of=lambda row: (row.day.isoformat(), row.start.isoformat(), row.id),
    )
    return KeyPage(items=entries_out(keyed.items), total=keyed.total, limit=keyed.limit, next_cursor=keyed.next_cursor)


def _filtered(stmt: Any, caller: Caller, filters: EntryFilter) -> Any:
    if not filters.all_users:
        stmt = stmt.where(Entry.user_id == (filters.user_id or caller.user_id))
    if filters.first_day is not None:
        stmt = stmt.where(Entry.day >= filters.first_day)
    if filters.last_day is not None:
        stmt = stmt.where(Entry.day <= filters.last_day)
    for column, value in (
        (Entry.customer_id, filters.customer_id),
        (Entry.project_id, filters.project_id),
        (Entry.activity_id, filters.activity_id),
        (Entry.sync_state, filters.sync_state),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.ticket:
        stmt = stmt.where(Entry.ticket == normalise_ticket(filters.ticket))
    return stmt


async def get_entry(session: AsyncSession, caller: Caller, entry_id: int) -> Entry:
    return await get_one(session, _visible(caller).where(Entry.id == entry_id), "entry", entry_id)


async def create_entry(
    session: AsyncSession,
    caller: Caller,
    data: EntryCreate,
    *,
    source: str = API_SOURCE,
    tickets: TicketChecker | None = None,
) -> Entry:
    """Book time; with `tickets`, a ticket on a ticket system's project must exist there (see `ticket_check`)."""
    owner = await _lock_owner(session, caller, data.user_id or caller.user_id)
    values = msgspec.structs.asdict(data)
    values.pop("user_id")
    values["start"], values["end"] = parse_wall_time(data.start), parse_wall_time(data.end)
    checked = await check_entry(session, owner, values, project_changed=True)
    if tickets is not None:
        await tickets.check(session, owner.id, checked.values["project_id"], checked.values["ticket"])
    entry = Entry(
        user_id=owner.id,
        **checked.values,
        sync_state=next_sync_state(None, books_time=checked.books_time, has_worklog=False),
    )
    session.add(entry)
    await session.flush()
    await reclassify_day(session, owner.id, entry.day)
    await record_revision(
        session, entry, author_id=caller.user_id, source=source, action="create", before={}, after=audited_values(entry)
    )
    await session.refresh(entry)
    record_entry_change(session, entry, "create")
    await _request_sync_if_pending(session, entry)
    return entry


async def update_entry(
    session: AsyncSession,
    caller: Caller,
    entry_id: int,
    data: EntryUpdate,
    *,
    if_match: int | None = None,
    source: str = API_SOURCE,
    tickets: TicketChecker | None = None,
) -> Entry:
    entry = await _writable_entry(session, caller, entry_id)
    owner = await _lock_owner(session, caller, entry.user_id)
    await session.refresh(entry)
    _check_version(entry, data.version if data.version is not msgspec.UNSET else if_match)

    changes = given_fields(data)
    changes.pop("version", None)
    for name in ("start", "end"):
        if name in changes:
            changes[name] = parse_wall_time(changes[name])
    before = audited_values(entry)
    merged = {**before, **changes}
    if "project_id" in changes and "customer_id" not in changes:
        merged["customer_id"] = None  # follows the new project unless given
    checked = await check_entry(session, owner, merged, project_changed=merged["project_id"] != before["project_id"])
    after = {name: checked.values[name] for name in before}
    if after == before:
        return entry
    moved = (after["ticket"], after["project_id"]) != (before["ticket"], before["project_id"])
    if tickets is not None and moved:
        await tickets.check(session, owner.id, after["project_id"], after["ticket"])

    old_day = entry.day
    for name, value in after.items():
        setattr(entry, name, value)
    entry.version += 1
    _mark_changed(entry, books_time=checked.books_time)
    await session.flush()
    for day in {old_day, entry.day}:
        await reclassify_day(session, owner.id, day)
    await record_revision(
        session, entry, author_id=caller.user_id, source=source, action="update", before=before, after=after
    )
    await session.refresh(entry)
    record_entry_change(session, entry, "update")
    await _request_sync_if_pending(session, entry)
    return entry


async def delete_entry(
    session: AsyncSession, caller: Caller, entry_id: int, *, if_match: int | None = None, source: str = API_SOURCE
) -> None:
    """Soft-delete: the entry is hidden but kept, and a synced worklog is scheduled for removal."""
    entry = await _writable_entry(session, caller, entry_id)
    await _lock_owner(session, caller, entry.user_id)
    await session.refresh(entry)
    if if_match is not None:
        _check_version(entry, if_match)
    entry.deleted_at = datetime.now(UTC)
    entry.version += 1
    _mark_changed(entry, books_time=False)
    await session.flush()
    await reclassify_day(session, entry.user_id, entry.day)
    await record_revision(
        session, entry, author_id=caller.user_id, source=source, action="delete", before=audited_values(entry), after={}
    )
    record_entry_change(session, entry, "delete")
    await _request_sync_if_pending(session, entry)


def _mark_changed(entry: Entry, *, books_time: bool) -> None:
    """The sync state after a local change, written even when it looks unchanged: a push settling this entry may
    have written `synced` in a transaction that committed after this one read the row, and this edit's UPDATE
    (which waits for that row lock) must leave the entry pending, not keep the push's outcome."""
    has_worklog = entry.worklog_id is not None
    entry.sync_state = next_sync_state(entry.sync_state, books_time=books_time, has_worklog=has_worklog)
    flag_modified(entry, "sync_state")


async def _request_sync_if_pending(session: AsyncSession, entry: Entry) -> None:
    if entry.sync_state is SyncState.PENDING:
        await request_sync_for_entry(session, entry, now=datetime.now(UTC))


async def reclassify_day(session: AsyncSession, user_id: int, day: date) -> None:
    """Recompute the classes of one user's day; only classes that change are written, without a version bump."""
    rows = (
        await session.execute(
            select(Entry.id, Entry.start, Entry.end, Entry.entry_class)
            .where(Entry.user_id == user_id, Entry.day == day, Entry.deleted_at.is_(None))
            .order_by(Entry.start, Entry.end, Entry.id)
        )
    ).all()
    classes = classify_day([(row.start, row.end) for row in rows])
    for row, entry_class in zip(rows, classes, strict=True):
        if row.entry_class != entry_class:
            await session.execute(
                update(Entry)
                .where(Entry.id == row.id)
                .values(entry_class=entry_class)
                .execution_options(synchronize_session=False)
            )


async def reclassify_days(session: AsyncSession, user_id: int, days: set[date]) -> None:
    """`reclassify_day` for many days at once: one read, and the changed classes in one batch (an import's page)."""
    if not days:
        return
    rows = (
        await session.execute(
            select(Entry.id, Entry.day, Entry.start, Entry.end, Entry.entry_class)
            .where(Entry.user_id == user_id, Entry.day.in_(days), Entry.deleted_at.is_(None))
            .order_by(Entry.day, Entry.start, Entry.end, Entry.id)
        )
    ).all()
    by_day: dict[date, list[Any]] = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    changed = []
    for day_rows in by_day.values():
        classes = classify_day([(row.start, row.end) for row in day_rows])
        changed += [
            {"id": row.id, "entry_class": entry_class}
            for row, entry_class in zip(day_rows, classes, strict=True)
            if row.entry_class != entry_class
        ]
    if changed:
        # An UPDATE by primary key, executed for all rows in one batch (without a version bump, as above).
        await session.execute(update(Entry), changed)


async def _writable_entry(session: AsyncSession, caller: Caller, entry_id: int) -> Entry:
    entry = await get_entry(session, caller, entry_id)
    if entry.user_id != caller.user_id and not caller.is_admin:
        raise PermissionDenied("only the entry's own user or an ADMIN may change it")
    return entry


async def _lock_owner(session: AsyncSession, caller: Caller, user_id: int) -> User:
    """The entry's user, row-locked until commit; booking for someone else needs an ADMIN."""
    if user_id != caller.user_id and not caller.is_admin:
        raise PermissionDenied("only an ADMIN books time for another user")
    owner = await session.scalar(select(User).where(User.id == user_id, User.deleted_at.is_(None)).with_for_update())
    if owner is None or not owner.active:
        raise InvalidInput(f"there is no active user {user_id}", field="user_id")
    return owner


def _check_version(entry: Entry, expected: int | None) -> None:
    if expected is None:
        raise PreconditionRequired(
            "name the version you are changing: send 'version' in the body or the entry's ETag as If-Match"
        )
    if expected != entry.version:
        raise Conflict(
            f"entry {entry.id} was changed meanwhile (it is at version {entry.version}, not {expected}); "
            "reload it and apply your change again",
            field="version",
        )
