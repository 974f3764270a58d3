from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.models import Link, SyncRun, TicketSystem
from gateway.core.sync_runs import ABANDONED, close_abandoned_runs
from gateway.core.users import create_user

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def make_link(session: AsyncSession) -> Link:
    user = await create_user(session, "ada", password="long enough pw")
    system = TicketSystem(name="Redmine", type="redmine", base_url="http://127.0.0.1:3000")
    session.add(system)
    await session.flush()
    link = Link(user_id=user.id, ticket_system_id=system.id, enabled=True)
    session.add(link)
    await session.flush()
    return link


async def test_only_runs_open_for_too_long_are_closed(session: AsyncSession) -> None:
    link = await make_link(session)
    stuck = SyncRun(link_id=link.id, started_at=NOW - timedelta(hours=3))
    running = SyncRun(link_id=link.id, started_at=NOW - timedelta(minutes=5))
    finished = SyncRun(link_id=link.id, started_at=NOW - timedelta(hours=5), finished_at=NOW - timedelta(hours=4))
    session.add_all([stuck, running, finished])
    await session.commit()

    assert await close_abandoned_runs(session, now=NOW, max_age=timedelta(hours=1)) == 1
    await session.commit()

    runs = {run.id: run for run in (await session.scalars(select(SyncRun))).all()}
    assert runs[stuck.id].finished_at == NOW
    assert runs[stuck.id].error == ABANDONED
    assert runs[running.id].finished_at is None
    assert runs[finished.id].error is None
