"""The few steps every resource service shares: fetch one visible row, apply a partial update, store."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.errors import Conflict, InvalidInput, NotFound
from gateway.core.models.base import SoftDeleteMixin

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


async def flush_unique(session: AsyncSession, conflict_message: str) -> None:
    """Flush; a unique-constraint violation becomes `Conflict(conflict_message)`."""
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(conflict_message) from exc


def soft_delete(row: SoftDeleteMixin) -> None:
    if row.deleted_at is None:
        row.deleted_at = datetime.now(UTC)
