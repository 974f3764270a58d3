"""Date expressions the reports group by, written for each database: ISO weeks and calendar months."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class iso_week(FunctionElement[str]):
    """The ISO 8601 week of a date, as "2026-W48"."""

    type = String()
    inherit_cache = True


class year_month(FunctionElement[str]):
    """The calendar month of a date, as "2026-11"."""

    type = String()
    inherit_cache = True


@compiles(iso_week, "postgresql")
def _iso_week_pg(element: iso_week, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"to_char({day}, 'IYYY-\"W\"IW')"


@compiles(iso_week, "sqlite")
def _iso_week_sqlite(element: iso_week, compiler: Any, **kw: Any) -> str:
    # SQLite before 3.46 has no %G/%V: the ISO year and week are those of the week's Thursday.
    day = compiler.process(element.clauses, **kw)
    thursday = f"date({day}, printf('%+d days', 3 - ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7)))"
    return f"printf('%s-W%02d', strftime('%Y', {thursday}), (CAST(strftime('%j', {thursday}) AS INTEGER) - 1) / 7 + 1)"


@compiles(year_month, "postgresql")
def _year_month_pg(element: year_month, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"to_char({day}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m', {day})"
