"""What a caller may see, as filters applied inside the query (never by filtering results afterwards).

- ADMIN sees everything.
- PL sees their own rows and those of the members of their teams (teams they belong to or lead).
- DEV and USER see their own entries, contracts and user row.
- Everyone sees global customers and the customers of their teams, and the projects of the customers they see
  (plus global projects); ADMIN sees all.

Every read goes through one of these builders, so a new endpoint cannot forget the rule.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, or_, select, union
from sqlalchemy.sql import ColumnElement

from gateway.core.auth.caller import Caller
from gateway.core.enums import UserType
from gateway.core.models import Contract, Customer, Entry, Project, Team, User, teams_customers, teams_users

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def team_ids_of(user_id: int) -> Select[int]:
    """The teams a user belongs to or leads."""
    member_of = select(teams_users.c.team_id).where(teams_users.c.user_id == user_id)
    leads = select(Team.id).where(Team.lead_user_id == user_id, Team.deleted_at.is_(None))
    return select(union(member_of, leads).subquery().c[0])


def team_member_ids(user_id: int) -> Select[int]:
    """Users who share a team with `user_id` (including the user)."""
    members = select(teams_users.c.user_id).where(teams_users.c.team_id.in_(team_ids_of(user_id)))
    return select(union(members, select(Team.lead_user_id).where(Team.id.in_(team_ids_of(user_id)))).subquery().c[0])


def _users_seen_by(caller: Caller, user_column: Any) -> ColumnElement[bool] | None:
    if caller.is_admin:
        return None
    if caller.type is UserType.PL:
        return or_(user_column == caller.user_id, user_column.in_(team_member_ids(caller.user_id)))
    return user_column == caller.user_id  # type: ignore[no-any-return]


def _where(stmt: S, condition: ColumnElement[bool] | None) -> S:
    return stmt if condition is None else stmt.where(condition)


def visible_entries(stmt: S, caller: Caller) -> S:
    return _where(stmt, _users_seen_by(caller, Entry.user_id))


def visible_users(stmt: S, caller: Caller) -> S:
    return _where(stmt, _users_seen_by(caller, User.id))


def visible_contracts(stmt: S, caller: Caller) -> S:
    return _where(stmt, _users_seen_by(caller, Contract.user_id))


def visible_teams(stmt: S, caller: Caller) -> S:
    return stmt if caller.is_admin else stmt.where(Team.id.in_(team_ids_of(caller.user_id)))


def team_customer_ids(user_id: int) -> Select[int]:
    return select(teams_customers.c.customer_id).where(teams_customers.c.team_id.in_(team_ids_of(user_id)))


def customers_visible_to(user_id: int, user_type: UserType) -> ColumnElement[bool] | None:
    """The customers a user may see and book on; None means all of them."""
    if user_type is UserType.ADMIN:
        return None
    return or_(Customer.global_.is_(True), Customer.id.in_(team_customer_ids(user_id)))


def visible_customers(stmt: S, caller: Caller) -> S:
    return _where(stmt, customers_visible_to(caller.user_id, caller.type))


def projects_visible_to(user_id: int, user_type: UserType) -> ColumnElement[bool] | None:
    if user_type is UserType.ADMIN:
        return None
    customer_ids = select(Customer.id).where(customers_visible_to(user_id, user_type))  # type: ignore[arg-type]
    return or_(Project.global_.is_(True), Project.customer_id.in_(customer_ids))


def visible_projects(stmt: S, caller: Caller) -> S:
    return _where(stmt, projects_visible_to(caller.user_id, caller.type))
