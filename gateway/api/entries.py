"""Time entries, bulk entry and the audit trail."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromQuery, HeaderParameter, JSONBody, QueryParameter

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery, Tickets
from gateway.api.openapi import problems
from gateway.api.parameters import IdFilter, RowId
from gateway.core import entries
from gateway.core.bulk_entries import BulkEntryCreate, create_bulk_entries
from gateway.core.entries import EntryCreate, EntryFilter, EntryUpdate
from gateway.core.entries import EntryOut as EntryOut  # the API's entry, built in one way (`entry_out`)
from gateway.core.entries import entry_out as entry_out
from gateway.core.enums import SyncState
from gateway.core.errors import InvalidInput
from gateway.core.master_data.types import MAX_INT
from gateway.core.models import Entry, EntryRevision
from gateway.core.revisions import list_revisions

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The ETag of the entry as read (e.g. "3"); or send `version` in the body',
        pattern=_ETAG.pattern,
    ),
]


class EntryPageOut(msgspec.Struct, kw_only=True):
    """A page of entries. `next_cursor` reads the next page (null on the last); `total` is null unless asked for
    (`total=true`) or known without counting. Paging by `offset` (deprecated) always counts and has no cursor."""

    items: list[EntryOut]
    total: int | None
    limit: int
    offset: int
    next_cursor: str | None


class RevisionOut(msgspec.Struct, kw_only=True):
    id: int
    created_at: datetime
    author_id: int | None
    source: str
    action: str
    changes: dict[str, Any]


def revision_out(revision: EntryRevision) -> RevisionOut:
    return msgspec.convert(revision, RevisionOut, from_attributes=True)


def with_etag(entry: Entry, status_code: int = 200) -> Response[EntryOut]:
    return Response(entry_out(entry), status_code=status_code, headers={"ETag": f'"{entry.version}"'})


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    found = _ETAG.match(value.strip())
    if found is None:
        raise InvalidInput('If-Match must be the entry\'s ETag, such as "3"', field="If-Match")
    return int(found.group(1))


class EntryController(Controller):
    path = "/api/entries"
    tags = ["entries"]
    opt = READ_ONLY_GETS

    @get(
        "",
        summary="Entries: the caller's own by default, newest day and start first",
        description="Page through with `next_cursor`: every page costs what the first does. `offset` still works "
        "but is deprecated (a deep offset sorts everything before it).",
    )
    async def list_entries(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        page: PageQuery,
        first_day: FromQuery[date | None] = None,
        last_day: FromQuery[date | None] = None,
        user_id: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_INT, description="Another user's entries (within view)")
        ] = None,
        all_users: Annotated[bool, QueryParameter(description="Every entry the caller can see")] = False,
        customer_id: IdFilter = None,
        project_id: IdFilter = None,
        activity_id: IdFilter = None,
        ticket: FromQuery[str | None] = None,
        sync_state: FromQuery[SyncState | None] = None,
        cursor: Annotated[
            str | None,
            QueryParameter(max_length=200, description="The `next_cursor` of the previous page (same filters)"),
        ] = None,
        total: Annotated[bool, QueryParameter(description="Count the whole list (costs a scan of it)")] = False,
    ) -> EntryPageOut:
        filters = EntryFilter(
            first_day=first_day,
            last_day=last_day,
            user_id=user_id,
            all_users=all_users,
            customer_id=customer_id,
            project_id=project_id,
            activity_id=activity_id,
            ticket=ticket,
            sync_state=sync_state,
        )
        found = await entries.list_entries_out(db_session, caller, filters, page, cursor=cursor, count=total)
        return EntryPageOut(
            items=list(found.items),
            total=found.total,
            limit=found.limit,
            offset=page.offset,
            next_cursor=found.next_cursor,
        )

    @post("", summary="Book time", status_code=201, responses=problems(403, 422))
    async def create_entry(
        self, caller: CurrentCaller, db_session: DbSession, tickets: Tickets, data: JSONBody[EntryCreate]
    ) -> Response[EntryOut]:
        return with_etag(await entries.create_entry(db_session, caller, data, tickets=tickets), status_code=201)

    @post(
        "/bulk",
        summary="Book a preset on every working day of a range (at most 100 days); all or nothing",
        responses=problems(403, 422),
    )
    async def create_bulk(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[BulkEntryCreate]
    ) -> list[EntryOut]:
        return [entry_out(entry) for entry in await create_bulk_entries(db_session, caller, data)]

    @get("/{entry_id:int}", summary="One entry; its ETag is the version to send when changing it")
    async def get_entry(self, caller: CurrentCaller, db_session: DbSession, entry_id: RowId) -> Response[EntryOut]:
        return with_etag(await entries.get_entry(db_session, caller, entry_id))

    @patch(
        "/{entry_id:int}",
        summary="Change an entry; needs its version (If-Match or `version`), 409 when stale",
        responses=problems(403, 409, 422, 428),
    )
    async def update_entry(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        entry_id: RowId,
        tickets: Tickets,
        data: JSONBody[EntryUpdate],
        if_match: IfMatch = None,
    ) -> Response[EntryOut]:
        entry = await entries.update_entry(
            db_session, caller, entry_id, data, if_match=parse_if_match(if_match), tickets=tickets
        )
        return with_etag(entry)

    @delete(
        "/{entry_id:int}",
        summary="Delete an entry (soft; a synced worklog is removed in the tracker)",
        responses=problems(403, 409, 422),
    )
    async def delete_entry(
        self, caller: CurrentCaller, db_session: DbSession, entry_id: RowId, if_match: IfMatch = None
    ) -> None:
        await entries.delete_entry(db_session, caller, entry_id, if_match=parse_if_match(if_match))

    @get("/{entry_id:int}/revisions", summary="Who changed the entry, when, and what")
    async def list_entry_revisions(
        self, caller: CurrentCaller, db_session: DbSession, entry_id: RowId
    ) -> list[RevisionOut]:
        entry = await entries.get_entry(db_session, caller, entry_id)
        return [revision_out(revision) for revision in await list_revisions(db_session, entry.id)]
