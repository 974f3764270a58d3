"""Customers."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import RowId
from gateway.core.master_data import customers
from gateway.core.master_data.customers import CustomerCreate, CustomerFilter, CustomerUpdate
from gateway.core.models import Customer


class CustomerOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    active: bool
    global_: bool = msgspec.field(name="global")
    team_ids: list[int]


def customer_out(customer: Customer) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        active=customer.active,
        global_=customer.global_,
        team_ids=sorted(team.id for team in customer.teams),
    )


class CustomerController(Controller):
    path = "/api/customers"
    tags = ["customers"]
    opt = READ_ONLY_GETS

    @get("", summary="Customers the caller can see (their teams' and global ones)")
    async def list_customers(
        self,
        caller: CurrentCaller,
        db_session: DbSession,
        page: PageQuery,
        name: Annotated[str | None, QueryParameter(description="Part of the name")] = None,
        active: FromQuery[bool | None] = None,
    ) -> PageOut[CustomerOut]:
        found = await customers.list_customers(db_session, caller, CustomerFilter(name=name, active=active), page)
        return page_out(found, customer_out)

    @get("/{customer_id:int}", summary="One customer")
    async def get_customer(self, caller: CurrentCaller, db_session: DbSession, customer_id: RowId) -> CustomerOut:
        return customer_out(await customers.get_customer(db_session, caller, customer_id))

    @post("", summary="Create a customer (ADMIN; a PL for their own teams)", responses=problems(403, 409, 422))
    async def create_customer(
        self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[CustomerCreate]
    ) -> CustomerOut:
        return customer_out(await customers.create_customer(db_session, caller, data))

    @patch("/{customer_id:int}", summary="Change a customer", responses=problems(403, 409, 422))
    async def update_customer(
        self, caller: CurrentCaller, db_session: DbSession, customer_id: RowId, data: JSONBody[CustomerUpdate]
    ) -> CustomerOut:
        return customer_out(await customers.update_customer(db_session, caller, customer_id, data))

    @delete(
        "/{customer_id:int}", summary="Delete a customer (soft: its entries stay readable)", responses=problems(403)
    )
    async def delete_customer(self, caller: CurrentCaller, db_session: DbSession, customer_id: RowId) -> None:
        await customers.delete_customer(db_session, caller, customer_id)
