"""`gateway user`: local accounts."""

from __future__ import annotations

import sys

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli._runtime import in_transaction, settings_with_logging
from gateway.core import users
from gateway.core.enums import UserType
from gateway.core.errors import InvalidInput


@click.group()
def user() -> None:
    """Manage local user accounts."""


@user.command()
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an ADMIN (same as --type ADMIN).")
@click.option(
    "--type",
    "user_type",
    type=click.Choice([t.value for t in UserType]),
    default=UserType.DEV.value,
    show_default=True,
    help="The user's role.",
)
@click.option("--display-name", default="", help="Name shown in the UI (default: the username).")
@click.option("--email", default=None, help="E-mail address.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create(
    username: str, admin: bool, user_type: str, display_name: str, email: str | None, password_stdin: bool
) -> None:
    """Create a local user USERNAME; asks for the password unless --password-stdin."""
    settings = settings_with_logging()
    password = _read_password(password_stdin)
    role = UserType.ADMIN if admin else UserType(user_type)

    async def work(session: AsyncSession) -> None:
        await users.create_user(
            session, username, password=password, user_type=role, display_name=display_name, email=email
        )

    in_transaction(settings, work)
    click.echo(f"created {role.value} user {username}")


@user.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME."""
    settings = settings_with_logging()
    password = _read_password(password_stdin)

    async def work(session: AsyncSession) -> None:
        await users.set_password(session, username, password)

    in_transaction(settings, work)
    click.echo(f"password of {username} changed")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InvalidInput("no password on stdin")
        return line
    if not sys.stdin.isatty():
        raise InvalidInput("no terminal to ask for the password: pass it with --password-stdin")
    prompted: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted
