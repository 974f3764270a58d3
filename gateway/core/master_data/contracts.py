"""Contracts: a user's hours per weekday over a span of days; ADMIN manages them, PLs see their teams'."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from sqlalchemy import Select, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import apply_changes, get_one, given_fields
from gateway.core.errors import Conflict, InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import Id
from gateway.core.models import Contract, User
from gateway.core.permissions import require_admin
from gateway.core.visibility import visible_contracts

Hours = Annotated[float, msgspec.Meta(ge=0, le=24)]
WEEKDAY_FIELDS = tuple(f"hours_{day}" for day in range(7))


class ContractCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Hours per weekday, Sunday first (hours_0) as in the original."""

    user_id: Id
    start: date
    end: date | None = None
    hours_0: Hours = 0
    hours_1: Hours = 0
    hours_2: Hours = 0
    hours_3: Hours = 0
    hours_4: Hours = 0
    hours_5: Hours = 0
    hours_6: Hours = 0


class ContractUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start: date | msgspec.UnsetType = msgspec.UNSET
    end: date | msgspec.UnsetType | None = msgspec.UNSET
    hours_0: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_1: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_2: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_3: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_4: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_5: Hours | msgspec.UnsetType = msgspec.UNSET
    hours_6: Hours | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"start": Contract.start, "user_id": Contract.user_id, "id": Contract.id}


def _visible(caller: Caller) -> Select[Contract]:
    return visible_contracts(select(Contract), caller)


async def list_contracts(
    session: AsyncSession, caller: Caller, user_id: int | None, page: PageRequest
) -> Page[Contract]:
    stmt = _visible(caller)
    if user_id is not None:
        stmt = stmt.where(Contract.user_id == user_id)
    return await fetch_page(
        session, stmt, page, sortable=SORTABLE, default_order=[Contract.user_id, Contract.start], tiebreaker=Contract.id
    )


async def get_contract(session: AsyncSession, caller: Caller, contract_id: int) -> Contract:
    return await get_one(session, _visible(caller).where(Contract.id == contract_id), "contract", contract_id)


async def create_contract(session: AsyncSession, caller: Caller, data: ContractCreate) -> Contract:
    require_admin(caller, "manage contracts")
    user = await session.get(User, data.user_id)
    if user is None or user.deleted_at is not None:
        raise InvalidInput(f"no user with id {data.user_id}", field="user_id")
    values = _decimals(msgspec.structs.asdict(data))
    contract = Contract(**values)
    await _refuse_overlap(session, contract)
    session.add(contract)
    await session.flush()
    return contract


async def update_contract(session: AsyncSession, caller: Caller, contract_id: int, data: ContractUpdate) -> Contract:
    contract = await get_contract(session, caller, contract_id)
    require_admin(caller, "manage contracts")
    apply_changes(contract, _decimals(given_fields(data)))
    await _refuse_overlap(session, contract)
    await session.flush()
    return contract


async def delete_contract(session: AsyncSession, caller: Caller, contract_id: int) -> None:
    contract = await get_contract(session, caller, contract_id)
    require_admin(caller, "manage contracts")
    await session.delete(contract)
    await session.flush()


async def contract_on(session: AsyncSession, user_id: int, day: date) -> Contract | None:
    """The contract that covers `day` for the user, if any."""
    return await session.scalar(
        select(Contract).where(
            Contract.user_id == user_id, Contract.start <= day, or_(Contract.end.is_(None), Contract.end >= day)
        )
    )


async def has_contracts(session: AsyncSession, user_id: int) -> bool:
    return await session.scalar(select(Contract.id).where(Contract.user_id == user_id).limit(1)) is not None


def hours_on(contract: Contract, day: date) -> Decimal:
    """The contract's hours for the weekday of `day` (Sunday = hours_0)."""
    return Decimal(getattr(contract, f"hours_{day.isoweekday() % 7}"))


def _decimals(values: dict[str, Any]) -> dict[str, Any]:
    return {key: Decimal(str(value)) if key in WEEKDAY_FIELDS else value for key, value in values.items()}


async def _refuse_overlap(session: AsyncSession, contract: Contract) -> None:
    if contract.end is not None and contract.end < contract.start:
        raise InvalidInput("a contract cannot end before it starts", field="end")
    ends_after_start = or_(Contract.end.is_(None), Contract.end >= contract.start)
    starts_before_end = Contract.start <= contract.end if contract.end is not None else true()
    clash = await session.scalar(
        select(Contract.id).where(
            Contract.user_id == contract.user_id,
            Contract.id != (contract.id or 0),
            ends_after_start,
            starts_before_end,
        )
    )
    if clash is not None:
        raise Conflict(f"the user's contract {clash} already covers part of that time", field="start")
