from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.demo import ADMIN_USERNAME, seed_demo
from gateway.core.enums import EntryClass, UserType
from gateway.core.models import Account, Activity, Contract, Customer, Entry, Project, Team, User, teams_users
from gateway.core.passwords import verify_password

MODELS = (User, Team, Customer, Project, Activity, Account, Contract, Entry)


async def counts(session: AsyncSession) -> dict[str, int]:
    found = {model.__name__: await session.scalar(select(func.count()).select_from(model)) or 0 for model in MODELS}
    found["team members"] = await session.scalar(select(func.count()).select_from(teams_users)) or 0
    return found


async def test_seeding_twice_leaves_one_copy_of_the_demo_data(session: AsyncSession) -> None:
    first = await seed_demo(session, today=date(2026, 11, 27))
    await session.commit()
    after_first = await counts(session)

    second = await seed_demo(session, today=date(2026, 11, 28))
    await session.commit()

    assert await counts(session) == after_first
    assert after_first["User"] == 1
    assert after_first["Entry"] == first.entries_created == 15
    assert second.entries_created == 0
    assert second.admin_password is None


async def test_the_demo_admin_can_log_in_with_the_printed_password(session: AsyncSession) -> None:
    result = await seed_demo(session, today=date(2026, 11, 27))
    admin = await session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    assert admin is not None
    assert admin.type is UserType.ADMIN
    assert result.admin_password is not None
    assert admin.password_hash is not None
    assert verify_password(admin.password_hash, result.admin_password)


async def test_demo_entries_are_on_working_days_with_day_classes(session: AsyncSession) -> None:
    await seed_demo(session, today=date(2026, 11, 30))  # a Monday: the five days before are Mon 23 to Fri 27
    entries = (await session.scalars(select(Entry).order_by(Entry.day, Entry.start))).all()
    assert sorted({entry.day for entry in entries}) == [date(2026, 11, day) for day in (23, 24, 25, 26, 27)]
    assert [entry.entry_class for entry in entries[:3]] == [EntryClass.DAYBREAK, EntryClass.PLAIN, EntryClass.PAUSE]
    assert [entry.duration for entry in entries[:3]] == [120, 30, 90]
