"""Creating users and setting their passwords."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.core.enums import UserType
from gateway.core.errors import Conflict, InvalidInput, NotFound
from gateway.core.models import User
from gateway.core.passwords import hash_password

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise InvalidInput(
            "a username has 1 to 128 letters, digits, '.', '_', '@' or '-', and starts with a letter or digit",
            field="username",
        )
    return username


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def create_user(
    session: AsyncSession,
    username: str,
    *,
    password: str | None,
    user_type: UserType = UserType.DEV,
    display_name: str = "",
    email: str | None = None,
) -> User:
    """Add a user (flushed, not committed); `password` None makes an account that can only log in via LDAP."""
    check_username(username)
    if await get_user_by_username(session, username) is not None:
        raise Conflict(f"a user named {username!r} already exists", field="username")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        type=user_type,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    await session.flush()
    return user


async def set_password(session: AsyncSession, username: str, password: str) -> User:
    user = await get_user_by_username(session, username)
    if user is None or user.is_deleted:
        raise NotFound(f"there is no user named {username!r}")
    user.password_hash = hash_password(password)
    await session.flush()
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.is_deleted:
        raise NotFound(f"user {user_id} does not exist")
    return user
