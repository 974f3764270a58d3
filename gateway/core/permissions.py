"""Who may change what. Reads are limited by `visibility`; these checks guard writes to rows the caller can see."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.errors import PermissionDenied
from gateway.core.models import teams_customers
from gateway.core.visibility import team_ids_of


def require_admin(caller: Caller, action: str) -> None:
    if not caller.is_admin:
        raise PermissionDenied(f"only an ADMIN may {action}")


def require_manager(caller: Caller, action: str) -> None:
    if not caller.is_manager:
        raise PermissionDenied(f"only an ADMIN or a PL may {action}")


async def require_manages_customer(session: AsyncSession, caller: Caller, customer_id: int) -> None:
    """ADMIN manages every customer; a PL those assigned to one of their teams."""
    require_manager(caller, "manage customers and projects")
    if caller.is_admin:
        return
    managed = await session.scalar(
        select(
            exists().where(
                teams_customers.c.customer_id == customer_id,
                teams_customers.c.team_id.in_(team_ids_of(caller.user_id)),
            )
        )
    )
    if not managed:
        raise PermissionDenied("a PL manages only the customers of their own teams")


async def require_team_of_caller(session: AsyncSession, caller: Caller, team_ids: list[int]) -> None:
    """A PL may only hand a new customer to teams they belong to or lead."""
    if caller.is_admin:
        return
    own = set((await session.scalars(team_ids_of(caller.user_id))).all())
    if not team_ids or not set(team_ids) <= own:
        raise PermissionDenied("a PL must assign a customer to at least one of their own teams, and only to those")
