"""Contracts."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import IdFilter, RowId
from gateway.core.master_data import contracts
from gateway.core.master_data.contracts import ContractCreate, ContractUpdate
from gateway.core.models import Contract


class ContractOut(msgspec.Struct, kw_only=True):
    id: int
    user_id: int
    start: date
    end: date | None
    hours_0: float
    hours_1: float
    hours_2: float
    hours_3: float
    hours_4: float
    hours_5: float
    hours_6: float


def contract_out(contract: Contract) -> ContractOut:
    hours = {f"hours_{day}": float(getattr(contract, f"hours_{day}")) for day in range(7)}
    return ContractOut(id=contract.id, user_id=contract.user_id, start=contract.start, end=contract.end, **hours)


class ContractController(Controller):
    path = "/api/contracts"
    tags = ["contracts"]
    opt = READ_ONLY_GETS

    @get("", summary="Contracts the caller can see (own; a PL's team; all for an ADMIN)", responses=problems(403))
    async def list_contracts(
        self, caller: CurrentCaller, db_session: DbSession, page: PageQuery, user_id: IdFilter = None
    ) -> PageOut[ContractOut]:
        return page_out(await contracts.list_contracts(db_session, caller, user_id, page), contract_out)

    @get("/{contract_id:int}", summary="One contract")
    async def get_contract(self, caller: CurrentCaller, db_session: DbSession, contract_id: RowId) -> ContractOut:
        return contract_out(await contracts.get_contract(db_session, caller, contract_id))

    @post(
        "",
        summary="Create a contract (ADMIN); contracts of one user must not overlap",
        responses=problems(403, 409, 422),
    )
    async def create_contract(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[ContractCreate]
    ) -> ContractOut:
        return contract_out(await contracts.create_contract(db_session, caller, data))

    @patch("/{contract_id:int}", summary="Change a contract (ADMIN)", responses=problems(403, 409, 422))
    async def update_contract(
        self, caller: CurrentCaller, db_session: DbSession, contract_id: RowId, data: JSONBody[ContractUpdate]
    ) -> ContractOut:
        return contract_out(await contracts.update_contract(db_session, caller, contract_id, data))

    @delete("/{contract_id:int}", summary="Delete a contract (ADMIN)", responses=problems(403))
    async def delete_contract(self, caller: CurrentCaller, db_session: DbSession, contract_id: RowId) -> None:
        await contracts.delete_contract(db_session, caller, contract_id)
