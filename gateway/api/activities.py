"""Activities and billing accounts."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import RowId
from gateway.core.master_data import accounts, activities
from gateway.core.master_data.accounts import AccountWrite
from gateway.core.master_data.activities import ActivityCreate, ActivityUpdate
from gateway.core.models import Account, Activity


class ActivityOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    needs_ticket: bool
    factor: float


class AccountOut(msgspec.Struct, kw_only=True):
    id: int
    name: str


def activity_out(activity: Activity) -> ActivityOut:
    return ActivityOut(
        id=activity.id, name=activity.name, needs_ticket=activity.needs_ticket, factor=float(activity.factor)
    )


def account_out(account: Account) -> AccountOut:
    return AccountOut(id=account.id, name=account.name)


class ActivityController(Controller):
    path = "/api/activities"
    tags = ["activities"]
    opt = READ_ONLY_GETS

    @get("", summary="Activities")
    async def list_activities(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        page: PageQuery,
        name: Annotated[str | None, QueryParameter(description="Part of the name")] = None,
    ) -> PageOut[ActivityOut]:
        return page_out(await activities.list_activities(db_session, name, page), activity_out)

    @get("/{activity_id:int}", summary="One activity")
    async def get_activity(self, caller: CurrentCaller, db_session: DbSession, activity_id: RowId) -> ActivityOut:
        return activity_out(await activities.get_activity(db_session, activity_id))

    @post("", summary="Create an activity (ADMIN or PL)", responses=problems(403, 409, 422))
    async def create_activity(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[ActivityCreate]
    ) -> ActivityOut:
        return activity_out(await activities.create_activity(db_session, caller, data))

    @patch("/{activity_id:int}", summary="Change an activity (ADMIN or PL)", responses=problems(403, 409, 422))
    async def update_activity(
        self, caller: CurrentCaller, db_session: DbSession, activity_id: RowId, data: JSONBody[ActivityUpdate]
    ) -> ActivityOut:
        return activity_out(await activities.update_activity(db_session, caller, activity_id, data))

    @delete("/{activity_id:int}", summary="Delete an activity (soft; ADMIN or PL)", responses=problems(403))
    async def delete_activity(self, caller: CurrentCaller, db_session: DbSession, activity_id: RowId) -> None:
        await activities.delete_activity(db_session, caller, activity_id)


class AccountController(Controller):
    path = "/api/accounts"
    tags = ["accounts"]
    opt = READ_ONLY_GETS

    @get("", summary="Billing accounts")
    async def list_accounts(self, caller: CurrentCaller, db_session: DbSession, page: PageQuery) -> PageOut[AccountOut]:
        return page_out(await accounts.list_accounts(db_session, page), account_out)

    @get("/{account_id:int}", summary="One billing account")
    async def get_account(self, caller: CurrentCaller, db_session: DbSession, account_id: RowId) -> AccountOut:
        return account_out(await accounts.get_account(db_session, account_id))

    @post("", summary="Create a billing account (ADMIN)", responses=problems(403, 409, 422))
    async def create_account(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[AccountWrite]
    ) -> AccountOut:
        return account_out(await accounts.create_account(db_session, caller, data))

    @patch("/{account_id:int}", summary="Rename a billing account (ADMIN)", responses=problems(403, 409, 422))
    async def rename_account(
        self, caller: CurrentCaller, db_session: DbSession, account_id: RowId, data: JSONBody[AccountWrite]
    ) -> AccountOut:
        return account_out(await accounts.rename_account(db_session, caller, account_id, data))

    @delete("/{account_id:int}", summary="Delete a billing account (soft; ADMIN)", responses=problems(403))
    async def delete_account(self, caller: CurrentCaller, db_session: DbSession, account_id: RowId) -> None:
        await accounts.delete_account(db_session, caller, account_id)
