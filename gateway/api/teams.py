"""Teams and users."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from gateway.api.dependencies import READ_ONLY_GETS, CurrentCaller, DbSession, PageQuery
from gateway.api.openapi import problems
from gateway.api.pages import PageOut, page_out
from gateway.api.parameters import RowId
from gateway.core.enums import UserType
from gateway.core.master_data import teams, users
from gateway.core.master_data.teams import TeamCreate, TeamUpdate
from gateway.core.master_data.users import UserCreate, UserUpdate
from gateway.core.models import Team, User


class TeamOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    lead_user_id: int | None
    member_ids: list[int]
    customer_ids: list[int]


class UserOut(msgspec.Struct, kw_only=True):
    id: int
    username: str
    display_name: str
    email: str | None
    type: UserType
    locale: str
    abbr: str | None
    active: bool
    # Whether the account has a local password (otherwise it logs in through LDAP).
    local_password: bool


def team_out(team: Team) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        lead_user_id=team.lead_user_id,
        member_ids=sorted(user.id for user in team.members),
        customer_ids=sorted(customer.id for customer in team.customers),
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        type=user.type,
        locale=user.locale,
        abbr=user.abbr,
        active=user.active,
        local_password=user.password_hash is not None,
    )


class TeamController(Controller):
    path = "/api/teams"
    tags = ["teams"]
    opt = READ_ONLY_GETS

    @get("", summary="Teams: all for an ADMIN, one's own for everyone else")
    async def list_teams(self, caller: CurrentCaller, db_session: DbSession, page: PageQuery) -> PageOut[TeamOut]:
        return page_out(await teams.list_teams(db_session, caller, page), team_out)

    @get("/{team_id:int}", summary="One team with its members and customers")
    async def get_team(self, caller: CurrentCaller, db_session: DbSession, team_id: RowId) -> TeamOut:
        return team_out(await teams.get_team(db_session, caller, team_id))

    @post("", summary="Create a team (ADMIN)", responses=problems(403, 409, 422))
    async def create_team(self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[TeamCreate]) -> TeamOut:
        return team_out(await teams.create_team(db_session, caller, data))

    @patch(
        "/{team_id:int}",
        summary="Change a team, its lead, members or customers (ADMIN)",
        responses=problems(403, 409, 422),
    )
    async def update_team(
        self, caller: CurrentCaller, db_session: DbSession, team_id: RowId, data: JSONBody[TeamUpdate]
    ) -> TeamOut:
        return team_out(await teams.update_team(db_session, caller, team_id, data))

    @delete("/{team_id:int}", summary="Delete a team (soft; ADMIN)", responses=problems(403))
    async def delete_team(self, caller: CurrentCaller, db_session: DbSession, team_id: RowId) -> None:
        await teams.delete_team(db_session, caller, team_id)


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]
    opt = READ_ONLY_GETS

    @get("", summary="Users: all for an ADMIN, a PL's team members, oneself for everyone else")
    async def list_users(self, caller: CurrentCaller, db_session: DbSession, page: PageQuery) -> PageOut[UserOut]:
        return page_out(await users.list_users(db_session, caller, page), user_out)

    @get("/{user_id:int}", summary="One user")
    async def get_user(self, caller: CurrentCaller, db_session: DbSession, user_id: RowId) -> UserOut:
        return user_out(await users.get_visible_user(db_session, caller, user_id))

    @post(
        "",
        summary="Create a user (ADMIN); without a password the user logs in through LDAP",
        responses=problems(403, 409, 422),
    )
    async def create_user(self, caller: CurrentCaller, db_session: DbSession, data: JSONBody[UserCreate]) -> UserOut:
        return user_out(await users.admin_create_user(db_session, caller, data))

    @patch(
        "/{user_id:int}",
        summary="Change a user (ADMIN); a new password ends their sessions",
        responses=problems(403, 409, 422),
    )
    async def update_user(
        self, caller: CurrentCaller, db_session: DbSession, user_id: RowId, data: JSONBody[UserUpdate]
    ) -> UserOut:
        return user_out(await users.admin_update_user(db_session, caller, user_id, data))

    @delete("/{user_id:int}", summary="Delete a user (soft: their entries stay; ADMIN)", responses=problems(403, 422))
    async def delete_user(self, caller: CurrentCaller, db_session: DbSession, user_id: RowId) -> None:
        await users.admin_delete_user(db_session, caller, user_id)
