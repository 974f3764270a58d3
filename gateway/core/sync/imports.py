"""Import: worklogs made in the tracker become entries, already synced — a page at a time.

A page's new worklogs are imported in the page's one transaction: the user's row is locked once, the projects of
the ticket system are read once per run, the entry rules are checked once per project and day (the answer does
not depend on the worklog's time, text or ticket beyond its project), the entries are inserted together, and each
touched day is classified once. A worklog that cannot be imported (no project takes its ticket, no contract on
its day) is parked as unmapped, with the reason, and tried again at the end of each complete read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from sqlalchemy import select

from gateway.connectors import RemoteWorklog
from gateway.core.commit_events import record_entry_change
from gateway.core.entries import reclassify_days
from gateway.core.entry_rules import check_entry
from gateway.core.enums import SyncState
from gateway.core.errors import GatewayError
from gateway.core.master_data.contracts import contract_on, has_contracts
from gateway.core.models import Activity, Entry, Project, UnmappedWorklog, User, WorklogSyncState
from gateway.core.revisions import audited_values, revision_of
from gateway.core.sync import snapshot
from gateway.core.sync.context import DEFAULT_IMPORT_START, Run
from gateway.core.tickets import PREFIXED_KEY, check_ticket_for_project


class Importer:
    """Imports for one run; it caches what does not change during the run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._projects: list[Project] | None = None
        # The entry rules' answer per project and activity (they do not depend on the worklog otherwise), and the
        # contract's per day (only read when the user has contracts at all).
        self._checked: dict[tuple[int, int], str | dict[str, Any]] = {}
        self._contract_days: dict[date, str | None] = {}
        self._has_contracts: bool | None = None
        self._activities: dict[str, tuple[int, str] | None] = {}
        self._import_activity: str | None = None

    async def import_all(self, worklogs: list[RemoteWorklog]) -> None:
        """Import the page's new worklogs (or park them as unmapped); the caller commits."""
        if not worklogs:
            return
        run = self.run
        session = run.session
        user = await session.scalar(select(User).where(User.id == run.link.user_id).with_for_update())
        assert user is not None
        parked = {
            row.worklog_id: row
            for row in await session.scalars(
                select(UnmappedWorklog).where(
                    UnmappedWorklog.link_id == run.link.id,
                    UnmappedWorklog.worklog_id.in_([w.id for w in worklogs]),
                )
            )
        }
        made: list[tuple[Entry, RemoteWorklog, str | None]] = []
        for remote in worklogs:
            outcome = await self._entry_for(user, remote)
            existing = parked.get(remote.id)
            if isinstance(outcome, str):
                row = existing or UnmappedWorklog(link_id=run.link.id, worklog_id=remote.id)
                row.ticket = remote.ticket
                row.worklog = msgspec.to_builtins(remote)
                row.reason = outcome
                row.seen_at = run.deps.clock()
                session.add(row)
                run.report.note("unmapped", None, remote.ticket, remote.id, outcome)
                continue
            if existing is not None:
                await session.delete(existing)
            entry, activity_name = outcome
            session.add(entry)
            made.append((entry, remote, activity_name))
            run.report.note("imported", None, remote.ticket, remote.id)
        await self._store(user, made)

    async def retry_unmapped(self) -> None:
        """Try the parked worklogs again (a project or contract may have appeared since)."""
        run = self.run
        session = run.session
        rows = (await session.scalars(select(UnmappedWorklog).where(UnmappedWorklog.link_id == run.link.id))).all()
        if not rows:
            return
        user = await session.scalar(select(User).where(User.id == run.link.user_id).with_for_update())
        assert user is not None
        made: list[tuple[Entry, RemoteWorklog, str | None]] = []
        for row in rows:
            remote = msgspec.convert({**row.worklog, "id": row.worklog_id}, RemoteWorklog, strict=False)
            outcome = await self._entry_for(user, remote)
            if isinstance(outcome, str):
                continue
            await session.delete(row)
            session.add(outcome[0])
            made.append((outcome[0], remote, outcome[1]))
            run.report.note("imported", None, remote.ticket, remote.id)
            run.report.unmapped = max(0, run.report.unmapped - 1)
        await self._store(user, made)

    async def _store(self, user: User, made: list[tuple[Entry, RemoteWorklog, str | None]]) -> None:
        if not made:
            return
        run = self.run
        session = run.session
        await session.flush()  # the entries get their ids, in one round trip per batch
        for entry, remote, activity_name in made:
            session.add(
                WorklogSyncState(
                    entry_id=entry.id,
                    link_id=run.link.id,
                    base=snapshot.base_of(remote, None, activity_name),
                    remote_updated_at=remote.updated_at,
                )
            )
            revision = revision_of(
                entry, author_id=None, source=run.source, action="import", before={}, after=audited_values(entry)
            )
            if revision is not None:
                session.add(revision)
            record_entry_change(session, entry, "create")
        await session.flush()
        await reclassify_days(session, user.id, {entry.day for entry, _remote, _name in made})

    async def _entry_for(self, user: User, remote: RemoteWorklog) -> str | tuple[Entry, str | None]:
        """The entry to book for a worklog made in the tracker, with its activity's name; or why it cannot be."""
        run = self.run
        ticket = remote.ticket.strip().upper()
        projects = await self._projects_taking(ticket)
        if len(projects) != 1:
            return (
                f"no project of {run.system.name} takes ticket {ticket}"
                if not projects
                else f"several projects take ticket {ticket}: {', '.join(p.name for p in projects)}"
            )
        project = projects[0]
        activity = await self._activity_for(remote)
        if activity is None:
            return f"{run.system.name} has no activity set for imported worklogs (import_activity_id)"
        start = remote.start or DEFAULT_IMPORT_START
        end = snapshot.end_of(start, remote.minutes)
        if end is None or remote.minutes <= 0:
            return f"{remote.minutes} minutes from {start:%H:%M} do not fit in one day"
        try:
            check_ticket_for_project(ticket, project.ticket_prefixes, project.subtickets)
        except GatewayError as exc:
            return str(exc)
        checked = self._checked.get((project.id, activity[0]))
        if checked is None:
            values: dict[str, Any] = {
                "day": remote.day, "start": start, "end": end, "project_id": project.id,
                "activity_id": activity[0], "customer_id": None, "account_id": None,
                "ticket": ticket, "description": remote.description,
            }  # fmt: skip
            try:
                checked = (await check_entry(run.session, user, values, project_changed=True)).values
            except GatewayError as exc:
                if getattr(exc, "field", None) == "day":
                    return str(exc)  # that day's contract, not the project's rules: other days may do
                checked = str(exc)
            self._checked[(project.id, activity[0])] = checked
            self._contract_days[remote.day] = None
        if isinstance(checked, str):
            return checked
        if remote.day not in self._contract_days:
            self._contract_days[remote.day] = await self._contract_problem(user, remote.day)
        problem = self._contract_days[remote.day]
        if problem is not None:
            return problem
        entry = Entry(
            user_id=user.id,
            day=remote.day,
            start=start,
            end=end,
            duration=remote.minutes,
            project_id=project.id,
            activity_id=activity[0],
            customer_id=checked["customer_id"],
            account_id=None,
            ticket=ticket,
            description=remote.description.strip(),
            worklog_id=remote.id,
            synced_to_ticketsystem=True,
            sync_state=SyncState.SYNCED,
        )
        return entry, activity[1]

    async def _contract_problem(self, user: User, day: date) -> str | None:
        if self._has_contracts is None:
            self._has_contracts = await has_contracts(self.run.session, user.id)
        if self._has_contracts and await contract_on(self.run.session, user.id, day) is None:
            return f"no contract of {user.username} covers {day.isoformat()}"
        return None

    async def _activity_for(self, remote: RemoteWorklog) -> tuple[int, str] | None:
        """The gateway activity of the tracker's activity's name when there is one, else the system's default."""
        session = self.run.session
        if remote.activity:
            name = remote.activity.lower()
            if name not in self._activities:
                row = (
                    await session.execute(
                        select(Activity.id, Activity.name)
                        .where(Activity.name.ilike(remote.activity), Activity.deleted_at.is_(None))
                        .limit(1)
                    )
                ).first()
                self._activities[name] = (row[0], row[1]) if row else None
            if self._activities[name] is not None:
                return self._activities[name]
        default_id = self.run.system.import_activity_id
        if default_id is None:
            return None
        if "" not in self._activities:
            activity = await session.get(Activity, default_id)
            self._activities[""] = (default_id, activity.name) if activity is not None else None
        return self._activities[""]

    async def _projects_taking(self, ticket: str) -> list[Project]:
        if self._projects is None:
            system = self.run.system
            self._projects = list(
                (
                    await self.run.session.scalars(
                        select(Project).where(
                            Project.ticket_system_id == system.id,
                            Project.deleted_at.is_(None),
                            Project.active.is_(True),
                        )
                    )
                ).all()
            )
        projects = self._projects
        prefix = match.group(1) if (match := PREFIXED_KEY.match(ticket)) else None
        taking = [p for p in projects if ticket in p.subtickets or (prefix and prefix in p.ticket_prefixes)]
        if not taking:
            # A tracker without key prefixes (Redmine numbers): a project with no prefixes takes any ticket.
            taking = [p for p in projects if not p.ticket_prefixes and not p.subtickets]
        return taking
