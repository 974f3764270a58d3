"""`gateway demo`: seed demo data."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.cli._runtime import in_transaction, settings_with_logging
from gateway.core.demo import DemoResult, seed_demo


@click.command()
def demo() -> None:
    """Seed a demo admin, customer, project, activities and entries (idempotent)."""
    settings = settings_with_logging()

    async def work(session: AsyncSession) -> DemoResult:
        return await seed_demo(session, today=date.today())

    result = in_transaction(settings, work)
    if result.entries_created:
        click.echo(f"demo data created ({result.entries_created} entries)")
    else:
        click.echo("demo data already present; nothing changed")
    if result.admin_password is not None:
        click.echo(f"log in as {result.admin_username} with password {result.admin_password}")
    else:
        click.echo(
            f"log in as {result.admin_username} with the password shown when it was created "
            f"(`gateway user set-password {result.admin_username}` sets a new one)"
        )
