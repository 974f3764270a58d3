"""The list envelope every paginated endpoint answers with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import msgspec

from gateway.core.listing import Page

Row = TypeVar("Row")
Item = TypeVar("Item")


class PageOut(msgspec.Struct, Generic[Item], kw_only=True):
    items: list[Item]
    total: int
    limit: int
    offset: int


def page_out(page: Page[Row], convert: Callable[[Row], Item]) -> PageOut[Item]:
    return PageOut(items=[convert(row) for row in page.items], total=page.total, limit=page.limit, offset=page.offset)
