"""Demo data for a first look: an admin, a team, a customer, a project, activities and a week of entries."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.day_classes import classify_day
from gateway.core.entries_time import duration_minutes
from gateway.core.enums import BillingType, UserType
from gateway.core.models import Account, Activity, Contract, Customer, Entry, Project, Team, User
from gateway.core.users import create_user, get_user_by_username

ADMIN_USERNAME = "admin"
CUSTOMER_NAME = "Demo Customer"
PROJECT_NAME = "Website Relaunch"
TEAM_NAME = "Demo Team"
ACCOUNT_NAME = "Demo Billing"
# (activity, needs a ticket)
ACTIVITIES = (("Development", True), ("Meeting", False), ("Support", False))
# One demo day: (start, end, activity, ticket, description); the spans give DAYBREAK, PLAIN and PAUSE.
DAY_PLAN = (
    (time(8, 0), time(10, 0), "Development", "WEB-1", "Page templates"),
    (time(10, 0), time(10, 30), "Meeting", "", "Daily stand-up"),
    (time(11, 0), time(12, 30), "Development", "WEB-2", "Contact form"),
)
DEMO_DAYS = 5

Named = TypeVar("Named", Customer, Team, Project, Activity, Account)


@dataclass(frozen=True)
class DemoResult:
    admin_username: str
    # Set only when this run created the admin: the one moment the password can be shown.
    admin_password: str | None
    entries_created: int


async def seed_demo(session: AsyncSession, today: date) -> DemoResult:
    """Create what is missing of the demo data (flushed, not committed); running it twice changes nothing."""
    admin_password: str | None = None
    admin = await get_user_by_username(session, ADMIN_USERNAME)
    if admin is None:
        admin_password = secrets.token_urlsafe(12)
        admin = await create_user(
            session, ADMIN_USERNAME, password=admin_password, user_type=UserType.ADMIN, display_name="Demo Admin"
        )

    customer = await _get_or_add(session, Customer, name=CUSTOMER_NAME, global_=True)
    team = await _get_or_add(session, Team, name=TEAM_NAME, lead_user_id=admin.id)
    await _link_team(session, team, admin, customer)
    project = await _get_or_add(
        session,
        Project,
        name=PROJECT_NAME,
        customer_id=customer.id,
        ticket_prefixes=["WEB"],
        billing=BillingType.TIME_AND_MATERIAL,
        estimation_minutes=40 * 60,
        project_lead_id=admin.id,
    )
    activities = {
        name: await _get_or_add(session, Activity, name=name, needs_ticket=needs_ticket)
        for name, needs_ticket in ACTIVITIES
    }
    account = await _get_or_add(session, Account, name=ACCOUNT_NAME)
    if not await session.scalar(select(exists().where(Contract.user_id == admin.id))):
        eight = Decimal(8)
        session.add(
            Contract(
                user_id=admin.id,
                start=date(today.year, 1, 1),
                hours_1=eight,
                hours_2=eight,
                hours_3=eight,
                hours_4=eight,
                hours_5=eight,
            )
        )

    created = 0
    if not await session.scalar(select(exists().where(Entry.project_id == project.id))):
        classes = classify_day([(start, end) for start, end, *_ in DAY_PLAN])
        for day in _recent_working_days(today, DEMO_DAYS):
            for (start, end, activity, ticket, description), entry_class in zip(DAY_PLAN, classes, strict=True):
                session.add(
                    Entry(
                        user_id=admin.id,
                        customer_id=customer.id,
                        project_id=project.id,
                        activity_id=activities[activity].id,
                        account_id=account.id,
                        day=day,
                        start=start,
                        end=end,
                        duration=duration_minutes(start, end),
                        ticket=ticket,
                        description=description,
                        entry_class=entry_class,
                    )
                )
                created += 1
    await session.flush()
    return DemoResult(admin_username=admin.username, admin_password=admin_password, entries_created=created)


async def _get_or_add(session: AsyncSession, model: type[Named], *, name: str, **values: object) -> Named:
    found = await session.scalar(select(model).where(model.name == name, model.deleted_at.is_(None)))
    if found is not None:
        return found
    row = model(name=name, **values)
    session.add(row)
    await session.flush()
    return row


async def _link_team(session: AsyncSession, team: Team, user: User, customer: Customer) -> None:
    await session.refresh(team, ["members", "customers"])
    if user not in team.members:
        team.members.append(user)
    if customer not in team.customers:
        team.customers.append(customer)


def _recent_working_days(today: date, count: int) -> list[date]:
    days: list[date] = []
    day = today
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return sorted(days)
