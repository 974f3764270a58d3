"""A seeded random company for the report tests, and the plain Python folds the reports must agree with.

The data covers what the reports have to get right: users in several teams and in none, a team lead who is not a
member, projects of every billing type, activity factors that are not binary fractions (0.29, 0.33, 1.25),
accounts on some entries only, contracts that change mid-year, holidays, soft-deleted entries, and days around
the ISO week-53 turn of 2026/2027.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.api_tokens import ApiTokenCreate, create_api_token
from gateway.core.auth.caller import Caller
from gateway.core.enums import BillingType, SyncState, UserType
from gateway.core.models import (
    Account,
    Activity,
    Contract,
    Customer,
    Entry,
    Holiday,
    Project,
    Team,
    TicketSystem,
    User,
)

FIRST_DAY = date(2026, 9, 1)
LAST_DAY = date(2027, 1, 31)
DIMENSIONS = ("user", "team", "customer", "project", "activity", "account", "ticket", "day", "week", "month")
NAMED = {"user", "team", "customer", "project", "activity", "account"}
BILLED_BY_TIME = {BillingType.TIME_AND_MATERIAL, BillingType.MIXED}


@dataclass(frozen=True)
class Row:
    id: int
    user_id: int
    customer_id: int
    project_id: int
    activity_id: int
    account_id: int | None
    day: date
    duration: int
    ticket: str
    deleted: bool
    sync_state: SyncState | None
    updated_at: datetime


@dataclass
class Dataset:
    users: dict[int, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)  # team id -> member user ids
    customers: dict[int, str] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    activities: dict[int, Activity] = field(default_factory=dict)
    accounts: dict[int, str] = field(default_factory=dict)
    contracts: dict[int, list[Contract]] = field(default_factory=dict)
    holidays: dict[date, str] = field(default_factory=dict)
    systems: dict[int, str] = field(default_factory=dict)
    entries: list[Row] = field(default_factory=list)

    def user(self, username: str) -> User:
        return next(user for user in self.users.values() if user.username == username)

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def visible_user_ids(self, username: str) -> set[int]:
        """Whose entries a user sees, by the rules in `gateway.core.visibility`, written out plainly."""
        viewer = self.user(username)
        if viewer.type is UserType.ADMIN:
            return set(self.users)
        if viewer.type is not UserType.PL:
            return {viewer.id}
        seen = {viewer.id}
        for team_id, team in self.teams.items():
            if viewer.id in self.members[team_id] or team.lead_user_id == viewer.id:
                seen |= self.members[team_id]
                if team.lead_user_id is not None:
                    seen.add(team.lead_user_id)
        return seen

    def teams_of(self, user_id: int) -> list[int | None]:
        teams = [team_id for team_id, members in self.members.items() if user_id in members]
        return teams or [None]


ROLES = [
    ("boss", UserType.ADMIN),
    ("lead_red", UserType.PL),
    ("lead_blue", UserType.PL),
    ("ann", UserType.DEV),
    ("bob", UserType.DEV),
    ("cem", UserType.DEV),
    ("dee", UserType.USER),
    ("eve", UserType.DEV),
]
# name, lead, members: ann is in two teams, lead_blue leads Blue without being a member, eve is in no team.
TEAMS = [("Red", "lead_red", ["lead_red", "ann", "bob"]), ("Blue", "lead_blue", ["ann", "cem", "dee"])]
ACTIVITIES = [("Development", "1.00"), ("Meeting", "0.50"), ("Review", "0.29"), ("Support", "0.33"), ("Night", "1.25")]
BILLINGS = [
    BillingType.TIME_AND_MATERIAL,
    BillingType.FIXED_PRICE,
    BillingType.MIXED,
    BillingType.NONE,
    BillingType.TIME_AND_MATERIAL,
    BillingType.MIXED,
]


async def build_dataset(session: AsyncSession, seed: int, entries: int = 700) -> Dataset:
    rng = random.Random(seed)
    data = Dataset()
    by_name: dict[str, User] = {}
    for username, user_type in ROLES:
        by_name[username] = User(username=username, display_name=username.title(), type=user_type)
    session.add_all(by_name.values())
    await session.flush()
    data.users = {user.id: user for user in by_name.values()}

    for name, lead, members in TEAMS:
        team = Team(name=name, lead_user_id=by_name[lead].id)
        team.members = [by_name[m] for m in members]
        team.customers = []
        session.add(team)
        await session.flush()
        data.teams[team.id] = team
        data.members[team.id] = {by_name[m].id for m in members}

    system = TicketSystem(name="Tracker", type="tasklog", base_url="http://127.0.0.1:9", config={})
    session.add(system)
    await session.flush()
    data.systems[system.id] = system.name

    customers = []
    for index, name in enumerate(["Acme", "Bolt", "Core", "Dyne"]):
        customer = Customer(name=name, global_=index == 3)
        customer.teams = [data.teams[list(data.teams)[index % 2]]] if index < 3 else []
        session.add(customer)
        customers.append(customer)
    await session.flush()
    data.customers = {c.id: c.name for c in customers}

    for index, billing in enumerate(BILLINGS):
        project = Project(
            name=f"Project {index + 1}",
            customer_id=customers[index % len(customers)].id,
            billing=billing,
            estimation_minutes=rng.choice([None, 6000, 30000]),
            offer=f"OFFER-{index + 1}" if index % 2 else None,
            ticket_system_id=system.id if index < 3 else None,
        )
        session.add(project)
        await session.flush()
        data.projects[project.id] = project
    for name, factor in ACTIVITIES:
        activity = Activity(name=name, factor=Decimal(factor))
        session.add(activity)
        await session.flush()
        data.activities[activity.id] = activity
    for name in ("Main", "Side"):
        account = Account(name=name)
        session.add(account)
        await session.flush()
        data.accounts[account.id] = name

    # Contracts: full time, then part time from a random day in October; one user with none at all.
    for username in ("ann", "bob", "cem", "dee", "lead_red"):
        user_id = by_name[username].id
        switch = date(2026, 10, rng.randint(1, 31))
        full = {f"hours_{d}": Decimal(8) for d in range(1, 6)}
        part = {f"hours_{d}": Decimal(rng.choice(["4", "6.5", "0"])) for d in range(1, 6)}
        contracts = [
            Contract(user_id=user_id, start=date(2026, 7, 1), end=switch - timedelta(days=1), **full),
            Contract(user_id=user_id, start=switch, **part),
        ]
        session.add_all(contracts)
        data.contracts[user_id] = contracts
    for day, name in ((date(2026, 10, 3), "Unity Day"), (date(2026, 12, 25), "Christmas"), (date(2027, 1, 1), "NY")):
        session.add(Holiday(day=day, name=name))
        data.holidays[day] = name
    await session.flush()

    now = datetime.now(UTC)
    span = (LAST_DAY - FIRST_DAY).days
    states = [None, None, SyncState.PENDING, SyncState.SYNCED, SyncState.FAILED, SyncState.CONFLICT]
    rows: list[Entry] = []
    for _ in range(entries):
        user = rng.choice(list(data.users.values()))
        project = rng.choice(list(data.projects.values()))
        activity = rng.choice(list(data.activities.values()))
        start = rng.randint(6 * 4, 17 * 4) * 15
        duration = rng.choice([15, 30, 45, 60, 90, 120, 135, 240, 7, 1])
        day = FIRST_DAY + timedelta(days=rng.randint(0, span))
        synced = project.ticket_system_id is not None
        entry = Entry(
            user_id=user.id,
            customer_id=project.customer_id,
            project_id=project.id,
            activity_id=activity.id,
            account_id=rng.choice([None, *data.accounts]),
            day=day,
            start=time(start // 60, start % 60),
            end=time((start + duration) // 60, (start + duration) % 60),
            duration=duration,
            ticket=rng.choice(["", "ACM-1", "ACM-2", "#17"]),
            sync_state=rng.choice(states) if synced else None,
            updated_at=now - timedelta(minutes=rng.randint(1, 5000)),
        )
        if rng.random() < 0.08:
            entry.deleted_at = now
        rows.append(entry)
    session.add_all(rows)
    await session.flush()
    data.entries = [
        Row(
            id=e.id,
            user_id=e.user_id,
            customer_id=e.customer_id,
            project_id=e.project_id,
            activity_id=e.activity_id,
            account_id=e.account_id,
            day=e.day,
            duration=e.duration,
            ticket=e.ticket,
            deleted=e.deleted_at is not None,
            sync_state=e.sync_state,
            updated_at=e.updated_at,
        )
        for e in rows
    ]
    for user in data.users.values():
        caller = Caller(user_id=user.id, username=user.username, type=user.type)
        _, token = await create_api_token(session, caller, ApiTokenCreate(name="reports"), now=now)
        data.tokens[user.username] = token
    await session.commit()
    return data


# --- The folds ----------------------------------------------------------------------------------------------------


def billable_hundredths(data: Dataset, row: Row) -> int:
    if data.projects[row.project_id].billing not in BILLED_BY_TIME:
        return 0
    return row.duration * int(data.activities[row.activity_id].factor * 100)


def matching(data: Dataset, viewer: str, filters: dict[str, Any]) -> Iterable[Row]:
    seen = data.visible_user_ids(viewer)
    first = date.fromisoformat(filters["first_day"])
    last = date.fromisoformat(filters["last_day"])
    for row in data.entries:
        if row.deleted or row.user_id not in seen or not first <= row.day <= last:
            continue
        if any(
            name in filters and getattr(row, name) != filters[name]
            for name in ("user_id", "customer_id", "project_id", "activity_id", "account_id")
        ):
            continue
        if "ticket" in filters and row.ticket != filters["ticket"]:
            continue
        if "team_id" in filters and row.user_id not in data.members[filters["team_id"]]:
            continue
        yield row


def key_values(data: Dataset, row: Row, dimension: str) -> list[Any]:
    """The report keys an entry falls under for one dimension, as the API writes them (named: the id)."""
    if dimension == "team":
        return list(data.teams_of(row.user_id))
    if dimension in NAMED:
        return [getattr(row, f"{dimension}_id")]
    if dimension == "day":
        return [row.day.isoformat()]
    if dimension == "week":
        year, week, _ = row.day.isocalendar()
        return [f"{year}-W{week:02d}"]
    if dimension == "month":
        return [row.day.strftime("%Y-%m")]
    return [row.ticket]


def fold_time_report(
    data: Dataset, viewer: str, group_by: Sequence[str], filters: dict[str, Any]
) -> tuple[dict[tuple[Any, ...], list[int]], list[int]]:
    """(rows: keys -> [minutes, entries, billable hundredths], totals) summed one entry at a time."""
    rows: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    totals = [0, 0, 0]
    for row in matching(data, viewer, filters):
        sums = (row.duration, 1, billable_hundredths(data, row))
        totals = [a + b for a, b in zip(totals, sums, strict=True)]
        for keys in product(*(key_values(data, row, dimension) for dimension in group_by)):
            rows[keys] = [a + b for a, b in zip(rows[keys], sums, strict=True)]
    # Without dimensions the report has no rows, only totals.
    return (dict(rows) if group_by else {}), totals


def api_row_key(group_by: Sequence[str], keys: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for dimension in group_by:
        value = keys[dimension]
        out.append((value and value["id"]) if dimension in NAMED else value)
    return tuple(out)


def fold_timesheet(data: Dataset, user_id: int, first: date, last: date) -> tuple[int, list[tuple[int, int, int]]]:
    """(balance before `first`, [(target, booked, running balance) per day]) for a user who sees their own time."""
    contracts = data.contracts.get(user_id, [])

    def target(day: date) -> int:
        if day in data.holidays:
            return 0
        for contract in contracts:
            if contract.start <= day and (contract.end is None or day <= contract.end):
                return int(getattr(contract, f"hours_{day.isoweekday() % 7}") * 60)
        return 0

    booked: dict[date, int] = defaultdict(int)
    for row in data.entries:
        if row.user_id == user_id and not row.deleted:
            booked[row.day] += row.duration
    day = min((contract.start for contract in contracts), default=first)
    balance = 0
    while day < first:
        balance += booked[day] - target(day)
        day += timedelta(days=1)
    before = balance
    days = []
    while day <= last:
        balance += booked[day] - target(day)
        days.append((target(day), booked[day], balance))
        day += timedelta(days=1)
    return before, days
