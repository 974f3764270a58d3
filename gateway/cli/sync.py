"""`gateway sync`: run syncs in the foreground, with a progress bar — or preview them (`--dry-run`)."""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select

from gateway.cli._runtime import reachable_engine, settings_with_logging
from gateway.core.db import create_session_factory
from gateway.core.errors import GatewayError, NotFound
from gateway.core.models import Link, TicketSystem, User
from gateway.core.plugins import build_registry
from gateway.core.settings import Settings
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.engine import SyncDeps, SyncReport, sync_link
from gateway.core.sync.preview import VERBS, preview_link
from gateway.core.sync.runtime import arq_redis, sync_deps
from gateway.core.tracker_http import tracker_http_client

# The counts a foreground sync adds up over its runs.
COUNTED = ("pushed", "pulled", "imported", "failed", "conflicts")
# The columns of a preview, in the order a reader takes them in.
PREVIEW_COLUMNS = ("create", "update", "delete", "import", "take_remote", "conflict", "mark_remote_deleted", "park")


@click.command()
@click.option("--user", "username", default=None, help="Sync this user's links.")
@click.option("--all", "everyone", is_flag=True, help="Sync every enabled, connected link.")
@click.option("--dry-run", is_flag=True, help="Show what a sync would create, change, delete or import; write nothing.")
def sync(username: str | None, everyone: bool, dry_run: bool) -> None:
    """Sync links now, in this process (alongside any workers: a link is never synced twice at once)."""
    if bool(username) == everyone:
        raise click.UsageError("give either --user USERNAME or --all")
    settings = settings_with_logging()
    results = asyncio.run(_sync(settings, username, dry_run=dry_run))
    console = Console(width=160)
    if dry_run:
        _print_previews(console, results)
        return
    table = Table(
        "link", "user", "ticket system", "books time", "pushed", "pulled", "imported", "failed", "conflicts", "outcome"
    )
    for result in results:
        report = result.report
        counts = (report.pushed, report.pulled, report.imported, report.failed, report.conflicts)
        table.add_row(*result.columns(), *(str(n) for n in counts), result.outcome)
    console.print(table)
    _warn_about_systems_that_do_not_book(console, results)


def _warn_about_systems_that_do_not_book(console: Console, results: list[LinkResult]) -> None:
    for system in sorted({result.system for result in results if not result.books_time}):
        console.print(
            f"note: {system} does not book time (book_time is false): its entries are not pushed as worklogs; "
            'an ADMIN turns it on with PATCH /api/ticket-systems/{id} {"book_time": true}',
            markup=False,
            highlight=False,
        )


def _print_previews(console: Console, results: list[LinkResult]) -> None:
    columns = (name.replace("_", " ") for name in PREVIEW_COLUMNS)
    table = Table("link", "user", "ticket system", "books time", *columns, "outcome")
    for result in results:
        verbs = [VERBS[event.action] for event in result.report.events]
        table.add_row(*result.columns(), *(str(verbs.count(name)) for name in PREVIEW_COLUMNS), result.outcome)
    console.print(table)
    for link_id, user, system, _books, report, _outcome in results:
        for event in report.events:
            entry = f"entry {event.entry_id}" if event.entry_id is not None else f"worklog {event.worklog_id}"
            detail = f" ({event.detail})" if event.detail else ""
            line = f"link {link_id} ({user}, {system}): {VERBS[event.action]} {entry} on {event.ticket}{detail}"
            console.print(line, markup=False, highlight=False)
    _warn_about_systems_that_do_not_book(console, results)
    console.print("dry run: nothing was written", markup=False, highlight=False)


class LinkResult(NamedTuple):
    link_id: int
    user: str
    system: str
    books_time: bool
    report: SyncReport
    outcome: str

    def columns(self) -> tuple[str, str, str, str]:
        return str(self.link_id), self.user, self.system, "yes" if self.books_time else "no"


async def _sync_until_done(deps: SyncDeps, link_id: int) -> SyncReport:
    """Sync a link, and again while it has more to do (the next pages of a long first import)."""
    total = await sync_link(deps, link_id)
    while total.again and total.skipped is None:
        report = await sync_link(deps, link_id)
        for name in COUNTED:
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.pull_unfinished, total.requested_again = report.pull_unfinished, report.requested_again
        total.skipped, total.pull_error = report.skipped, report.pull_error
    return total


async def _sync(settings: Settings, username: str | None, *, dry_run: bool) -> list[LinkResult]:
    async with (
        reachable_engine(settings.database_url, prepared_statements=settings.db_prepared_statements) as engine,
        tracker_http_client() as http,
    ):
        factory = create_session_factory(engine)
        redis = arq_redis(settings.redis_url) if settings.redis_url else None
        deps = sync_deps(settings, factory, build_registry(), http, redis)
        async with factory() as session:
            stmt = (
                select(Link.id, User.username, TicketSystem.name, TicketSystem.book_time)
                .join(User, User.id == Link.user_id)
                .join(TicketSystem, TicketSystem.id == Link.ticket_system_id)
                .where(Link.enabled.is_(True), Link.access_token.is_not(None), TicketSystem.deleted_at.is_(None))
                .order_by(Link.id)
            )
            if username:
                stmt = stmt.where(User.username == username)
            links = (await session.execute(stmt)).all()
        if username and not links:
            raise NotFound(f"{username} has no enabled, connected link")
        results = []
        with Progress(transient=True) as progress:
            task = progress.add_task("previewing" if dry_run else "syncing", total=len(links))
            for link_id, user, system, books_time in links:
                try:
                    report = await (preview_link(deps, link_id) if dry_run else _sync_until_done(deps, link_id))
                    outcome = report.skipped or report.pull_error or ("would sync" if dry_run else "synced")
                except Deferred as deferred:
                    report = SyncReport(link_id=link_id)
                    wait = f", retry in {deferred.retry_after:g} s" if deferred.retry_after else ""
                    outcome = f"deferred: {deferred}{wait}"
                except GatewayError as exc:
                    if not dry_run:
                        raise
                    report, outcome = SyncReport(link_id=link_id), f"no preview: {exc}"
                results.append(LinkResult(link_id, user, system, books_time, report, outcome))
                progress.advance(task)
        if redis is not None:
            await redis.aclose()
        return results
