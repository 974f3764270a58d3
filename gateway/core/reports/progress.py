"""Project progress: time booked on a project against its estimation and offer, by activity and month.

Only entries the caller may see are counted (a PL sees their teams' time, an ADMIN all of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.master_data.projects import get_project
from gateway.core.models import Activity, Entry, Project
from gateway.core.reports.sql import year_month
from gateway.core.visibility import visible_entries


@dataclass(frozen=True, slots=True)
class ProgressCell:
    activity_id: int
    activity: str
    month: str
    minutes: int


@dataclass(frozen=True, slots=True)
class ProjectProgress:
    project: Project
    booked_minutes: int
    # booked / estimation, to four decimals; None without an estimation.
    share_used: Decimal | None
    cells: list[ProgressCell]

    def by_activity(self) -> list[tuple[int, str, int]]:
        """(activity id, name, minutes), by name."""
        totals: dict[tuple[int, str], int] = {}
        for cell in self.cells:
            key = (cell.activity_id, cell.activity)
            totals[key] = totals.get(key, 0) + cell.minutes
        return sorted(((ident, name, minutes) for (ident, name), minutes in totals.items()), key=lambda t: (t[1], t[0]))

    def by_month(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for cell in self.cells:
            totals[cell.month] = totals.get(cell.month, 0) + cell.minutes
        return dict(sorted(totals.items()))


async def project_progress(session: AsyncSession, caller: Caller, project_id: int) -> ProjectProgress:
    project = await get_project(session, caller, project_id)
    month = year_month(Entry.day)
    stmt = visible_entries(
        select(Activity.id, Activity.name, month.label("month"), func.sum(Entry.duration))
        .select_from(Entry)
        .join(Activity, Activity.id == Entry.activity_id)
        .where(Entry.project_id == project.id, Entry.deleted_at.is_(None)),
        caller,
    ).group_by(Activity.id, Activity.name, month)
    cells = [ProgressCell(row[0], row[1], row[2], int(row[3])) for row in (await session.execute(stmt)).all()]
    cells.sort(key=lambda cell: (cell.month, cell.activity))
    booked = sum(cell.minutes for cell in cells)
    share = (
        (Decimal(booked) / project.estimation_minutes).quantize(Decimal("0.0001"))
        if project.estimation_minutes
        else None
    )
    return ProjectProgress(project=project, booked_minutes=booked, share_used=share, cells=cells)
