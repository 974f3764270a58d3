"""`gateway sync`: run syncs in the foreground, with a progress bar."""

from __future__ import annotations

import asyncio

import click
import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from gateway.cli._runtime import reachable_engine, settings_with_logging
from gateway.core.db import create_session_factory
from gateway.core.errors import NotFound
from gateway.core.models import Link, User
from gateway.core.plugins import build_registry
from gateway.core.settings import Settings
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.engine import SyncReport, sync_link
from gateway.core.sync.runtime import arq_redis, sync_deps


@click.command()
@click.option("--user", "username", default=None, help="Sync this user's links.")
@click.option("--all", "everyone", is_flag=True, help="Sync every enabled, connected link.")
def sync(username: str | None, everyone: bool) -> None:
    """Sync links now, in this process (alongside any workers: a link is never synced twice at once)."""
    if bool(username) == everyone:
        raise click.UsageError("give either --user USERNAME or --all")
    settings = settings_with_logging()
    results = asyncio.run(_sync(settings, username))
    table = Table("link", "user", "pushed", "pulled", "imported", "failed", "conflicts", "outcome")
    for link_id, user, report, outcome in results:
        table.add_row(
            str(link_id),
            user,
            *(str(n) for n in (report.pushed, report.pulled, report.imported, report.failed, report.conflicts)),
            outcome,
        )
    Console(width=160).print(table)


async def _sync(settings: Settings, username: str | None) -> list[tuple[int, str, SyncReport, str]]:
    async with reachable_engine(settings.database_url) as engine, httpx.AsyncClient(timeout=30) as http:
        factory = create_session_factory(engine)
        redis = arq_redis(settings.redis_url) if settings.redis_url else None
        deps = sync_deps(settings, factory, build_registry(), http, redis)
        async with factory() as session:
            stmt = (
                select(Link.id, User.username)
                .join(User, User.id == Link.user_id)
                .where(Link.enabled.is_(True), Link.access_token.is_not(None))
                .order_by(Link.id)
            )
            if username:
                stmt = stmt.where(User.username == username)
            links = (await session.execute(stmt)).all()
        if username and not links:
            raise NotFound(f"{username} has no enabled, connected link")
        results = []
        with Progress(transient=True) as progress:
            task = progress.add_task("syncing", total=len(links))
            for link_id, user in links:
                try:
                    report = await sync_link(deps, link_id)
                    outcome = report.skipped or "synced"
                except Deferred as deferred:
                    report = SyncReport(link_id=link_id)
                    wait = f", retry in {deferred.retry_after:g} s" if deferred.retry_after else ""
                    outcome = f"deferred: {deferred}{wait}"
                results.append((link_id, user, report, outcome))
                progress.advance(task)
        if redis is not None:
            await redis.aclose()
        return results
