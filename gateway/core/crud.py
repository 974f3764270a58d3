"""The few steps every resource service shares: fetch one visible row, apply a partial update, store."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.errors import Conflict, InvalidInput, NotFound
from gateway.core.models.base import Base, SoftDeleteMixin

M = TypeVar("M")


async def get_one(session: AsyncSession, stmt: Select[M], what: str, row_id: object) -> M:
    """The single row of `stmt`, or `NotFound`: a row outside the caller's view does not exist for them."""
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(f"{what} {row_id} does not exist")
    return row


async def referenced(lookup: Awaitable[M], field: str) -> M:
    """A row named in a request body: one the caller cannot see is invalid input (422), not a missing page (404)."""
    try:
        return await lookup
    except NotFound as exc:
        raise InvalidInput(str(exc), field=field) from None


def given_fields(changes: msgspec.Struct) -> dict[str, Any]:
    """The fields of a partial update that were given (not `msgspec.UNSET`), by attribute name."""
    return {name: value for name in changes.__struct_fields__ if (value := getattr(changes, name)) is not msgspec.UNSET}


def apply_changes(row: object, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set `values` on `row`; return {field: (old, new)} for the fields whose value actually changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            setattr(row, name, new)
            changed[name] = (old, new)
    return changed


async def flush_unique(session: AsyncSession, conflict_message: str, field: str = "name") -> None:
    """Flush; a unique-constraint violation becomes `Conflict(conflict_message)` naming `field`."""
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        if unique_violation(exc) is None:
            raise
        raise Conflict(conflict_message, field=field) from exc


# PostgreSQL: 'Key (customer_id, name)=(3, Web) already exists.'; SQLite: 'UNIQUE constraint failed: teams.name'.
_PG_KEY = re.compile(r"Key \(([^)]+)\)=")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_INDEX = re.compile(r"index '([^']+)'")


def unique_violation(exc: IntegrityError) -> list[str] | None:
    """The columns of the unique constraint `exc` violates; None when it is another kind of integrity error."""
    orig = exc.orig
    detail = getattr(getattr(orig, "diag", None), "message_detail", None)
    if getattr(orig, "sqlstate", None) == "23505":
        found = _PG_KEY.search(detail or "")
        return [column.strip() for column in found.group(1).split(",")] if found else []
    message = str(orig)
    found = _SQLITE_COLUMNS.search(message)
    if found is None:
        return None
    index = _SQLITE_INDEX.search(found.group(1))
    if index is not None:
        return _index_columns(index.group(1))
    return [part.strip().rsplit(".", 1)[-1] for part in found.group(1).split(",")]


def _index_columns(name: str) -> list[str]:
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name == name:
                return [column.name for column in index.columns]
    return []


def conflict_for(exc: IntegrityError) -> Conflict | None:
    """A unique-constraint violation as the `Conflict` that names the field; None for other integrity errors.

    The last column of a composite key is the one a request chose (a project's name within its customer).
    """
    columns = unique_violation(exc)
    if columns is None:
        return None
    field = columns[-1] if columns else None
    return Conflict(f"{field or 'a value'} is already taken", field=field)


def soft_delete(row: SoftDeleteMixin) -> None:
    if row.deleted_at is None:
        row.deleted_at = datetime.now(UTC)
