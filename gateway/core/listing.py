"""Paginated, sorted lists: one way for every list endpoint to page and sort inside the database."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import ColumnElement

from gateway.core.errors import InvalidInput

T = TypeVar("T")
# What a list can be ordered by: a mapped attribute (Customer.name) or any column expression.
Orderable = QueryableAttribute[Any] | ColumnElement[Any]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    # Comma-separated field names, each optionally prefixed with "-" for descending order.
    sort: str | None = None
    # Whether the caller named an offset (the deprecated way to page a list that also pages by cursor).
    offset_given: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


def order_by_clauses(
    sort: str | None, sortable: Mapping[str, Orderable], default: Sequence[Orderable]
) -> list[Orderable]:
    if not sort:
        return list(default)
    clauses: list[Orderable] = []
    for raw in sort.split(","):
        name = raw.strip()
        descending = name.startswith("-")
        column = sortable.get(name.lstrip("-"))
        if column is None:
            raise InvalidInput(
                f"cannot sort by {name.lstrip('-')!r}; sortable fields: {', '.join(sorted(sortable))}", field="sort"
            )
        clauses.append(column.desc() if descending else column.asc())
    return clauses


async def fetch_page(
    session: AsyncSession,
    stmt: Select[T],
    page: PageRequest,
    *,
    sortable: Mapping[str, Orderable],
    default_order: Sequence[Orderable],
    tiebreaker: Orderable,
    rows: bool = False,
) -> Page[T]:
    """Count the rows of `stmt`, then fetch one page of them in the requested order (ties broken by `tiebreaker`)."""
    if not 1 <= page.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if page.offset < 0:
        raise InvalidInput("offset must not be negative", field="offset")
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    ordered = stmt.order_by(*order_by_clauses(page.sort, sortable, default_order), tiebreaker)
    window = ordered.limit(page.limit).offset(page.offset)
    # `rows`: the statement's rows (read by attribute), else its first column (the entity).
    items: Sequence[Any] = (await session.execute(window)).all() if rows else (await session.scalars(window)).all()
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# --- Keyset pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyPage(Generic[T]):
    """A page read after a position in a fixed order: `next_cursor` reads the next one (None: this is the last).
    `total` is the number of rows of the whole list when asked for, or when known without counting."""

    items: Sequence[T]
    total: int | None
    limit: int
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class KeyColumn:
    """One column of a keyset order; `parse` turns the cursor's JSON value back into the column's type."""

    column: Orderable
    descending: bool
    parse: Callable[[Any], Any]


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor: the last row's key values as base64url JSON (clients only hand it back)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str, key: Sequence[KeyColumn]) -> list[Any]:
    try:
        raw = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(key):
            raise ValueError("wrong length")
        return [part.parse(value) for part, value in zip(key, raw, strict=True)]
    except (ValueError, TypeError, msgspec.DecodeError, binascii.Error):
        raise InvalidInput("cursor is not one this list handed out", field="cursor") from None


def after_key(key: Sequence[KeyColumn], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after `values` in the order of `key`: the first column bounds an index range, the others break ties
    (`day <= d AND (day < d OR day = d AND (start < s OR start = s AND id > i))`)."""
    first, *rest = key
    column: Any = first.column
    beyond = column < values[0] if first.descending else column > values[0]
    if not rest:
        return beyond  # type: ignore[no-any-return]
    bound = column <= values[0] if first.descending else column >= values[0]
    return and_(bound, or_(beyond, and_(column == values[0], after_key(rest, values[1:]))))


async def fetch_key_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    key: Sequence[KeyColumn],
    limit: int,
    cursor: str | None,
    count: bool,
    key_of: Callable[[Any], Sequence[Any]],
) -> KeyPage[Any]:
    """One page of `stmt` in the order of `key` after `cursor`: any page costs what the first costs.

    The rows' total is counted only when `count` is asked for; a first page that holds the whole list knows it
    anyway. `key_of` gives a row's key values as JSON values (the next cursor is made of the last row's).
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    paged = stmt if cursor is None else stmt.where(after_key(key, decode_cursor(cursor, key)))
    order = [part.column.desc() if part.descending else part.column.asc() for part in key]
    rows = (await session.execute(paged.order_by(*order).limit(limit + 1))).all()
    more = len(rows) > limit
    items = rows[:limit]
    total: int | None = None
    if count:
        total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    elif cursor is None and not more:
        total = len(items)
    return KeyPage(
        items=items, total=total, limit=limit, next_cursor=encode_cursor(key_of(items[-1])) if more else None
    )
