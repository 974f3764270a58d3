"""Sync preview: what the next sync of a link would create, change, delete or import — writing nothing anywhere.

The preview runs the sync engine itself (`sync_link(dry_run=True)`), so it decides exactly as a sync does. It
reads the tracker (the pull, and the lookups a sync makes before a create it may have made already), but
sends it no write: worklog creates, updates and deletes are recorded instead, and no token is refreshed. Its
database work happens inside one transaction that is always rolled back (the engine's own commits become
savepoints in it), with no commit hooks: plugins and the job queue hear nothing. No lease is taken, so a preview
runs alongside a sync.

What a preview cannot know: whether the tracker accepts each write (a refused worklog fails in the sync), and
what changes in the tracker or in the gateway between the preview and the sync.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.core.auth.caller import Caller
from gateway.core.db import READ_ONLY, GatewaySession
from gateway.core.errors import TrackerUnavailable
from gateway.core.links import my_link
from gateway.core.sync.coordination import Coordinator
from gateway.core.sync.deferred import Deferred
from gateway.core.sync.engine import SyncDeps, SyncReport, sync_link


class _NoLocks:
    """The coordinator of a preview: it takes from the request budget like a sync, and locks nothing."""

    def __init__(self, coordinator: Coordinator) -> None:
        self._coordinator = coordinator

    def ticket_lock(self, system_id: int, ticket: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    async def take_budget(self, system_id: int) -> None:
        await self._coordinator.take_budget(system_id)


async def preview_link(deps: SyncDeps, link_id: int) -> SyncReport:
    """What `sync_link(deps, link_id)` would do now, with nothing written; `TrackerUnavailable` when the tracker
    cannot be read, `PreviewUnavailable` when the link's token must be refreshed first."""
    engine: AsyncEngine = deps.session_factory.kw["bind"]
    async with engine.connect() as connection:
        # On SQLite the transaction begins without the write lock: the tracker is read before anything is written.
        read_first = await connection.execution_options(**{READ_ONLY: True})
        await read_first.begin()
        try:
            factory = async_sessionmaker(
                bind=read_first,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
                sync_session_class=GatewaySession,
            )
            preview_deps = replace(deps, session_factory=factory, coordinator=_NoLocks(deps.coordinator))
            try:
                return await sync_link(preview_deps, link_id, dry_run=True)
            except Deferred as exc:
                raise TrackerUnavailable(f"could not read the tracker: {exc}") from None
        finally:
            await read_first.rollback()


# A preview speaks of what a sync would do: each engine action, as a verb.
VERBS = {
    "created": "create",
    "updated": "update",
    "adopted": "adopt",
    "deleted": "delete",
    "imported": "import",
    "unmapped": "park",
    "taken": "take_remote",
    "conflict": "conflict",
    "remote_deleted": "mark_remote_deleted",
    "failed": "fail",
}


async def preview_my_link(session: AsyncSession, caller: Caller, system_id: int, deps: SyncDeps) -> SyncReport:
    """The preview of the caller's own link to a ticket system (404 when they have none)."""
    link, _system = await my_link(session, caller, system_id)
    # The request's transaction ends before the preview's own begins (on SQLite: one writer at a time).
    await session.commit()
    return await preview_link(deps, link.id)
