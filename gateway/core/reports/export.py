"""Exports as CSV and XLSX, written while rows arrive, so a year of a large company need not fit in memory.

Columns are typed: dates stay dates (a date cell in XLSX, ISO text in CSV), durations are hours as numbers (two
decimals), counts are integers.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from gateway.core.reports.time_report import NAMED_DIMENSIONS, Dimension, ReportRow, Sums, TimeFilter
from gateway.core.reports.timesheet import Timesheet

CHUNK = 64 * 1024


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    HOURS = "hours"


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    kind: Kind


@dataclass
class Table:
    """What an export writes: typed columns, rows as they arrive, an optional total row, and the filter."""

    title: str
    columns: Sequence[Column]
    rows: AsyncIterator[list[Any]]
    # Called after the last row; its values (None for an empty cell) end the XLSX sheet in bold.
    total: Callable[[], Awaitable[list[Any]]] | None = None
    filter: Sequence[tuple[str, Any]] = ()


def hours(minutes: int | Decimal) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


# --- The two reports as columns and rows --------------------------------------------------------------------------


def time_report_table(
    group_by: Sequence[Dimension],
    filters: TimeFilter,
    rows: AsyncIterator[ReportRow],
    totals: Callable[[], Awaitable[Sums]],
) -> Table:
    """The time report as a table: one or two columns per dimension (id and name for named ones), then the sums."""
    columns: list[Column] = []
    for dimension in group_by:
        if dimension in NAMED_DIMENSIONS:
            columns += [Column(f"{dimension.value} id", Kind.INTEGER), Column(dimension.value, Kind.TEXT)]
        else:
            columns.append(Column(dimension.value, Kind.DATE if dimension is Dimension.DAY else Kind.TEXT))
    key_columns = len(columns)
    columns += [
        Column("hours", Kind.HOURS),
        Column("entries", Kind.INTEGER),
        Column("billable hours", Kind.HOURS),
        Column("non-billable hours", Kind.HOURS),
    ]

    async def values() -> AsyncIterator[list[Any]]:
        async for row in rows:
            keys: list[Any] = []
            for dimension in group_by:
                key = row.keys[dimension.value]
                if dimension in NAMED_DIMENSIONS:
                    keys += [key["id"], key["name"]] if key else [None, None]
                else:
                    keys.append(key)
            yield keys + _sums(row.sums)

    async def total() -> list[Any]:
        return ["Total", *[None] * (key_columns - 1), *_sums(await totals())]

    return Table(
        title="Time report",
        columns=columns,
        rows=values(),
        total=total if group_by else None,
        filter=[("group_by", ", ".join(d.value for d in group_by) or "(none)"), *filters.items()],
    )


def _sums(sums: Sums) -> list[Any]:
    return [hours(sums.minutes), sums.entries, hours(sums.billable_minutes), hours(sums.non_billable_minutes)]


def timesheet_table(sheet: Timesheet) -> Table:
    """A month's timesheet as a table: one row per day, the month's sums in the total row."""
    columns = [
        Column("day", Kind.DATE),
        Column("weekday", Kind.TEXT),
        Column("holiday", Kind.TEXT),
        Column("target hours", Kind.HOURS),
        Column("booked hours", Kind.HOURS),
        Column("balance hours", Kind.HOURS),
        Column("running balance hours", Kind.HOURS),
    ]

    async def values() -> AsyncIterator[list[Any]]:
        for day in sheet.days:
            yield [
                day.day,
                day.day.strftime("%A"),
                day.holiday,
                hours(day.target_minutes),
                hours(day.booked_minutes),
                hours(day.balance),
                hours(day.running_balance),
            ]

    async def total() -> list[Any]:
        return [
            "Total",
            None,
            None,
            hours(sheet.target_minutes),
            hours(sheet.booked_minutes),
            hours(sheet.balance),
            hours(sheet.balance_after),
        ]

    return Table(
        title="Timesheet",
        columns=columns,
        rows=values(),
        total=total,
        filter=[
            ("user", sheet.user.username),
            ("month", sheet.month),
            ("balance before (hours)", hours(sheet.balance_before)),
        ],
    )


# --- Writers ----------------------------------------------------------------------------------------------------


async def csv_stream(table: Table) -> AsyncIterator[bytes]:
    """The rows as CSV (UTF-8, comma, header row); data only, so scripts can read it back without skipping lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.title for column in table.columns])
    async for values in table.rows:
        writer.writerow(["" if value is None else _text(value) for value in values])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_stream(table: Table) -> AsyncIterator[bytes]:
    """A workbook with the table's sheet (header, rows, bold total row) and a "Filter" sheet.

    openpyxl's write-only mode keeps rows out of memory; the finished file is then read out in chunks.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.title[:31])
    bold = Font(bold=True)
    sheet.append([_header(sheet, column, bold) for column in table.columns])
    async for values in table.rows:
        sheet.append([_cell(sheet, column, value) for column, value in zip(table.columns, values, strict=True)])
    if table.total is not None:
        total = await table.total()
        sheet.append([_cell(sheet, column, value, bold) for column, value in zip(table.columns, total, strict=True)])
    about = workbook.create_sheet("Filter")
    for name, value in table.filter:
        kind = Kind.DATE if isinstance(value, date) else Kind.TEXT
        about.append([_cell(about, Column("name", Kind.TEXT), name), _cell(about, Column(name, kind), value)])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(CHUNK):
            yield chunk


def _header(sheet: Any, column: Column, font: Font) -> WriteOnlyCell:
    cell: WriteOnlyCell = _cell(sheet, Column(column.title, Kind.TEXT), column.title, font)
    return cell


def _cell(sheet: Any, column: Column, value: Any, font: Font | None = None) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        # XLSX cannot hold most control characters (openpyxl refuses them); show that one was there.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = WriteOnlyCell(sheet, value=float(value) if column.kind is Kind.HOURS else value)
    if column.kind is Kind.DATE:
        cell.number_format = "yyyy-mm-dd"
    elif column.kind is Kind.HOURS:
        cell.number_format = "0.00"
    if font is not None:
        cell.font = font
    return cell


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
