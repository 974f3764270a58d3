"""The rules an entry must satisfy before it is stored, as the seed defines them.

- the end lies after the start on the same day (entries never span midnight); the duration follows from them;
- the project is live, visible to the entry's user, and active for new bookings;
- the customer defaults to the project's; another customer only on a global project;
- the activity exists; an activity that needs a ticket gets one;
- tickets are trimmed and upper-cased, and carry one of the project's prefixes or are one of its sub-tickets;
- a user with contracts books only on days a contract covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.entries_time import duration_minutes
from gateway.core.enums import SyncState
from gateway.core.errors import InvalidInput
from gateway.core.master_data.contracts import contract_on, has_contracts
from gateway.core.models import Account, Activity, Customer, Project, TicketSystem, User
from gateway.core.tickets import check_ticket_for_project, normalise_ticket
from gateway.core.visibility import customers_visible_to, projects_visible_to

Ticket = Annotated[str, msgspec.Meta(max_length=128)]
Description = Annotated[str, msgspec.Meta(max_length=4000)]


def parse_wall_time(value: str) -> time:
    return time.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class CheckedEntry:
    """Entry values that passed every rule, ready to store, with what the sync needs to know."""

    values: dict[str, Any]
    books_time: bool


async def check_entry(
    session: AsyncSession,
    user: User,
    values: dict[str, Any],
    *,
    project_changed: bool,
) -> CheckedEntry:
    """Check `values` (day, start, end, project_id, activity_id, customer_id, account_id, ticket, description)."""
    start, end = values["start"], values["end"]
    duration = duration_minutes(start, end)

    project = await session.scalar(_bookable_project(user, values["project_id"]))
    if project is None:
        raise InvalidInput(f"there is no project {values['project_id']} this user can book on", field="project_id")
    if project_changed and not project.active:
        raise InvalidInput(f"project {project.name!r} is inactive and takes no new entries", field="project_id")

    customer_id = values.get("customer_id") or project.customer_id
    if customer_id != project.customer_id and not project.global_:
        raise InvalidInput(
            f"project {project.name!r} belongs to customer {project.customer_id}; only global projects "
            "take entries for other customers",
            field="customer_id",
        )
    customer = await session.scalar(_bookable_customer(user, customer_id))
    if customer is None:
        raise InvalidInput(f"there is no customer {customer_id} this user can book on", field="customer_id")
    if project_changed and not customer.active:
        raise InvalidInput(f"customer {customer.name!r} is inactive and takes no new entries", field="customer_id")

    activity = await session.get(Activity, values["activity_id"])
    if activity is None or activity.deleted_at is not None:
        raise InvalidInput(f"there is no activity {values['activity_id']}", field="activity_id")

    ticket = normalise_ticket(values.get("ticket") or "", project.ticket_prefixes)
    if ticket:
        check_ticket_for_project(ticket, project.ticket_prefixes, project.subtickets)
    elif activity.needs_ticket:
        raise InvalidInput(f"activity {activity.name!r} needs a ticket", field="ticket")

    account_id = values.get("account_id")
    if account_id is not None:
        account = await session.get(Account, account_id)
        if account is None or account.deleted_at is not None:
            raise InvalidInput(f"there is no account {account_id}", field="account_id")

    await _check_contract(session, user, values["day"])
    return CheckedEntry(
        values={
            **values,
            "customer_id": customer_id,
            "ticket": ticket,
            "duration": duration,
            "description": (values.get("description") or "").strip(),
        },
        books_time=bool(ticket) and await _books_time(session, project),
    )


def next_sync_state(current: SyncState | None, *, books_time: bool, has_worklog: bool) -> SyncState | None:
    """The sync state after a local change: pending when there is something to write to the tracker.

    A conflict or a remote deletion is settled explicitly, never by a plain edit, so those states stay.
    """
    if current in (SyncState.CONFLICT, SyncState.REMOTE_DELETED):
        return current
    return SyncState.PENDING if books_time or has_worklog else None


def _bookable_project(user: User, project_id: int) -> Any:
    stmt = select(Project).where(Project.id == project_id, Project.deleted_at.is_(None))
    condition = projects_visible_to(user.id, user.type)
    return stmt if condition is None else stmt.where(condition)


def _bookable_customer(user: User, customer_id: int) -> Any:
    stmt = select(Customer).where(Customer.id == customer_id, Customer.deleted_at.is_(None))
    condition = customers_visible_to(user.id, user.type)
    return stmt if condition is None else stmt.where(condition)


async def _books_time(session: AsyncSession, project: Project) -> bool:
    if project.ticket_system_id is None:
        return False
    system = await session.get(TicketSystem, project.ticket_system_id)
    return system is not None and system.deleted_at is None and system.enabled and system.book_time


async def _check_contract(session: AsyncSession, user: User, day: date) -> None:
    if await has_contracts(session, user.id) and await contract_on(session, user.id, day) is None:
        raise InvalidInput(f"no contract of {user.username} covers {day.isoformat()}", field="day")
