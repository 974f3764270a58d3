"""User accounts as an ADMIN manages them; a PL sees their teams' members, everyone else only themselves."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.auth.caller import Caller
from gateway.core.auth.sessions import end_all_sessions
from gateway.core.crud import apply_changes, flush_unique, get_one, given_fields, soft_delete
from gateway.core.enums import UserType
from gateway.core.errors import InvalidInput
from gateway.core.listing import Page, PageRequest, fetch_page
from gateway.core.master_data.types import EMAIL, LOCALE, Name
from gateway.core.models import User
from gateway.core.passwords import hash_password
from gateway.core.permissions import require_admin
from gateway.core.users import check_username, create_user
from gateway.core.visibility import visible_users

Abbr = Annotated[str, msgspec.Meta(max_length=3)]
Locale = Annotated[str, msgspec.Meta(pattern=LOCALE)]
Email = Annotated[str, msgspec.Meta(pattern=EMAIL, max_length=255)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]


class UserCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: Annotated[str, msgspec.Meta(max_length=128)]
    display_name: Name | None = None
    email: Email | None = None
    type: UserType = UserType.DEV
    locale: Locale = "en"
    abbr: Abbr | None = None
    # Omit for an account that logs in through LDAP.
    password: Password | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    display_name: Name | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    type: UserType | msgspec.UnsetType = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET
    abbr: Abbr | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET


SORTABLE = {"username": User.username, "id": User.id, "display_name": User.display_name, "type": User.type}


def _visible(caller: Caller) -> Select[User]:
    return visible_users(select(User).where(User.deleted_at.is_(None)), caller)


async def list_users(session: AsyncSession, caller: Caller, page: PageRequest) -> Page[User]:
    return await fetch_page(
        session, _visible(caller), page, sortable=SORTABLE, default_order=[User.username], tiebreaker=User.id
    )


async def get_visible_user(session: AsyncSession, caller: Caller, user_id: int) -> User:
    return await get_one(session, _visible(caller).where(User.id == user_id), "user", user_id)


async def admin_create_user(session: AsyncSession, caller: Caller, data: UserCreate) -> User:
    require_admin(caller, "create users")
    user = await create_user(
        session,
        check_username(data.username),
        password=data.password,
        user_type=data.type,
        display_name=data.display_name or data.username,
        email=data.email,
    )
    user.locale, user.abbr = data.locale, data.abbr
    await session.flush()
    return user


async def admin_update_user(session: AsyncSession, caller: Caller, user_id: int, data: UserUpdate) -> User:
    user = await get_visible_user(session, caller, user_id)
    require_admin(caller, "change users")
    values: dict[str, Any] = given_fields(data)
    if user.id == caller.user_id and (
        values.get("type", UserType.ADMIN) is not UserType.ADMIN or values.get("active") is False
    ):
        raise InvalidInput("an ADMIN cannot demote or deactivate themselves; ask another ADMIN", field="type")
    password = values.pop("password", None)
    if password is not None:
        user.password_hash = hash_password(password)
        await end_all_sessions(session, user.id)
    if values.get("active") is False:
        await end_all_sessions(session, user.id)
    apply_changes(user, values)
    await flush_unique(session, f"a user named {user.username!r} already exists", field="username")
    return user


async def admin_delete_user(session: AsyncSession, caller: Caller, user_id: int) -> None:
    user = await get_visible_user(session, caller, user_id)
    require_admin(caller, "delete users")
    if user.id == caller.user_id:
        raise InvalidInput("an ADMIN cannot delete themselves; ask another ADMIN")
    soft_delete(user)
    await end_all_sessions(session, user.id)
    await session.flush()
