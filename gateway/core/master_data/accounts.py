"""Billing accounts: readable by everyone, managed by ADMIN."""

from __future__ import annotations

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.crud import flush_unique, get_one, soft_delete
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import ShortName
from gateway.core.models import Account
from gateway.core.permissions import require_admin


class AccountWrite(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: ShortName


SORTABLE = {"name": Account.name, "id": Account.id}


def _live() -> Select[Account]:
    return select(Account).where(Account.deleted_at.is_(None))


async def list_accounts(session: AsyncSession, page: PageRequest) -> Page[Account]:
    return await fetch_page(
        session, _live(), page, sortable=SORTABLE, default_order=[Account.name], tiebreaker=Account.id
    )


async def get_account(session: AsyncSession, account_id: int) -> Account:
    return await get_one(session, _live().where(Account.id == account_id), "account", account_id)


async def create_account(session: AsyncSession, caller: Caller, data: AccountWrite) -> Account:
    require_admin(caller, "manage accounts")
    account = Account(name=data.name.strip())
    session.add(account)
    await flush_unique(session, f"an account named {data.name!r} already exists")
    return account


async def rename_account(session: AsyncSession, caller: Caller, account_id: int, data: AccountWrite) -> Account:
    require_admin(caller, "manage accounts")
    account = await get_account(session, account_id)
    account.name = data.name.strip()
    await flush_unique(session, f"an account named {data.name!r} already exists")
    return account


async def delete_account(session: AsyncSession, caller: Caller, account_id: int) -> None:
    require_admin(caller, "manage accounts")
    soft_delete(await get_account(session, account_id))
    await session.flush()
