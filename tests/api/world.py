"""A small company to test roles and visibility against, built straight in the database.

Team A: lead `pl_a` (PL), members `dev_a` (DEV) and `user_a` (USER); customer `Alpha` with project `Alpha Web`.
Team B: lead `pl_b` (PL), member `dev_b` (DEV); customer `Beta` with project `Beta App`.
`Globex` is a global customer (project `Globex Ops`); `admin` is an ADMIN in no team. Every user has a personal
API token; `headers(name)` authenticates as them.

Also: activities `Development` (needs a ticket) and `Meeting`; an account `Main`; a ticket system `Tracker`;
a contract for `dev_a` (Mon-Fri, 8 h); a preset `Alpha dev` on Alpha Web; one entry each of `dev_a` (ALP-1),
`pl_a` and `dev_b` (BET-1) on Monday 2026-11-23, in `entries[username]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.api_tokens import ApiTokenCreate, create_api_token
from gateway.core.auth.caller import Caller
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.enums import UserType
from gateway.core.models import Account, Activity, Contract, Customer, Entry, Preset, Project, Team, TicketSystem, User

MONDAY = date(2026, 11, 23)


@dataclass
class World:
    database_url: str = ""
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    account: Account | None = None
    ticket_system: TicketSystem | None = None
    contract: Contract | None = None
    preset: Preset | None = None

    def caller(self, username: str) -> Caller:
        user = self.users[username]
        return Caller(user_id=user.id, username=username, type=user.type)

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def id(self, kind: str, name: str) -> int:
        row = getattr(self, kind)[name]
        return int(row.id)


ROLES = {
    "admin": UserType.ADMIN,
    "pl_a": UserType.PL,
    "dev_a": UserType.DEV,
    "user_a": UserType.USER,
    "pl_b": UserType.PL,
    "dev_b": UserType.DEV,
}


async def build_world(session: AsyncSession) -> World:
    world = World()
    for username, user_type in ROLES.items():
        user = User(username=username, display_name=username.upper(), type=user_type)
        session.add(user)
        world.users[username] = user
    await session.flush()

    for name, lead, members in (("A", "pl_a", ["pl_a", "dev_a", "user_a"]), ("B", "pl_b", ["pl_b", "dev_b"])):
        team = Team(name=f"Team {name}", lead_user_id=world.users[lead].id)
        team.members = [world.users[m] for m in members]
        team.customers = []
        session.add(team)
        world.teams[name] = team
    await session.flush()

    for name, team, is_global in (("Alpha", "A", False), ("Beta", "B", False), ("Globex", None, True)):
        customer = Customer(name=name, global_=is_global)
        customer.teams = [world.teams[team]] if team else []
        session.add(customer)
        world.customers[name] = customer
    await session.flush()

    for name, customer, prefixes in (
        ("Alpha Web", "Alpha", ["ALP"]),
        ("Beta App", "Beta", ["BET"]),
        ("Globex Ops", "Globex", ["GLX"]),
    ):
        project = Project(name=name, customer_id=world.customers[customer].id, ticket_prefixes=prefixes)
        session.add(project)
        world.projects[name] = project
    for name, needs_ticket in (("Development", True), ("Meeting", False)):
        activity = Activity(name=name, needs_ticket=needs_ticket)
        session.add(activity)
        world.activities[name] = activity
    await session.flush()

    world.account = Account(name="Main")
    world.ticket_system = TicketSystem(
        name="Tracker", type="tasklog", base_url="http://127.0.0.1:9", config={"client_id": "gateway"}
    )
    eight = Decimal(8)
    world.contract = Contract(
        user_id=world.users["dev_a"].id, start=date(2026, 1, 1), hours_1=eight, hours_2=eight, hours_3=eight,
        hours_4=eight, hours_5=eight,
    )  # fmt: skip
    world.preset = Preset(
        name="Alpha dev",
        customer_id=world.customers["Alpha"].id,
        project_id=world.projects["Alpha Web"].id,
        activity_id=world.activities["Development"].id,
        description="Development",
    )
    session.add_all([world.account, world.ticket_system, world.contract, world.preset])
    await session.flush()

    now = datetime.now(UTC)
    for username in world.users:
        _, token = await create_api_token(session, world.caller(username), ApiTokenCreate(name="tests"), now=now)
        world.tokens[username] = token
    for username, project, ticket in (
        ("dev_a", "Alpha Web", "ALP-1"),
        ("pl_a", "Alpha Web", "ALP-2"),
        ("dev_b", "Beta App", "BET-1"),
    ):
        booking = EntryCreate(
            day=MONDAY,
            start="09:00",
            end="10:00",
            project_id=world.projects[project].id,
            activity_id=world.activities["Development"].id,
            ticket=ticket,
        )
        world.entries[username] = await create_entry(session, world.caller(username), booking)
    await session.commit()
    return world
