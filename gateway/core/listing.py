"""Paginated, sorted lists: one way for every list endpoint to page and sort inside the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
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
) -> Page[T]:
    """Count the rows of `stmt`, then fetch one page of them in the requested order (ties broken by `tiebreaker`)."""
    if not 1 <= page.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if page.offset < 0:
        raise InvalidInput("offset must not be negative", field="offset")
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    ordered = stmt.order_by(*order_by_clauses(page.sort, sortable, default_order), tiebreaker)
    items = (await session.scalars(ordered.limit(page.limit).offset(page.offset))).all()
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
