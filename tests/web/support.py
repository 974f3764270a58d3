"""What the browser tests share: a real `gateway serve` process, a watch on every page, a company per test."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from playwright.async_api import ConsoleMessage, Page, Request, Response
from sqlalchemy import update

from gateway.connectors import Credentials, TicketData
from gateway.core.auth.caller import Caller
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.enums import SyncState, UserType
from gateway.core.models import (
    Activity,
    Contract,
    Customer,
    Entry,
    Holiday,
    Link,
    Preset,
    Project,
    Team,
    TicketSystem,
    User,
    WorklogSyncState,
)
from gateway.core.secrets_at_rest import seal_system_secrets, store_credentials
from gateway.core.ticket_cache import upsert_ticket
from gateway.core.users import create_user
from gateway.core.vault import KeyRing
from tests.support import GATEWAY, free_port, run_in_session

if TYPE_CHECKING:
    from example_connector.fake_tasklog import FakeTasklog

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PASSWORD = "a long and good password"
DASH = "\N{EN DASH}"  # between the start and the end of an entry


# --- The server -----------------------------------------------------------------------------------------------


class GatewayServer:
    """`gateway serve` in a process of its own, as in production; logs go to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> GatewayServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [GATEWAY, "serve", "--port", str(self.port)], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway serve did not start:\n{self.logs()[-4000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """Gone at once, as in a crash: open connections break."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# --- Watching pages -----------------------------------------------------------------------------------------------


@dataclass
class PageWatch:
    """Everything that went wrong on a test's pages: console errors, uncaught exceptions, failed requests and
    error answers. A test names the error answers it expects (`expect_status`); anything else fails it."""

    problems: list[str] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)
    seen_statuses: set[int] = field(default_factory=set)
    may_drop: list[str] = field(default_factory=list)

    def expect_status(self, status: int, path: str) -> None:
        self.expected.append((status, path))

    def expect_dropped(self, path: str) -> None:
        """Connections to `path` may break or be refused: the test stops the server on purpose."""
        self.may_drop.append(path)

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # Chromium logs every error answer as well; those are judged by their status in `_response`.
        found = re.search(r"the server responded with a status of (\d+)", message.text)
        if found and int(found.group(1)) in self.seen_statuses:
            return
        if "net::ERR_" in message.text and self._dropped_ok(message.location.get("url", "")):
            return
        self.problems.append(f"console error: {message.text} ({message.location.get('url')})")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        # Leaving a page cancels what it was still reading (its live-update stream, a refresh); that is fine for
        # reads. A write cancelled on the way would not be.
        if request.method == "GET" and "ERR_ABORTED" in failure:
            return
        if self._dropped_ok(request.url):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def _response(self, response: Response) -> None:
        if response.status < 400:
            return
        path = httpx.URL(response.url).path
        if any(status == response.status and path.startswith(prefix) for status, prefix in self.expected):
            self.seen_statuses.add(response.status)
            return
        self.problems.append(f"unexpected answer {response.status} to {response.request.method} {response.url}")

    def _dropped_ok(self, url: str) -> bool:
        return bool(url) and any(httpx.URL(url).path.startswith(path) for path in self.may_drop)

    def check(self) -> None:
        assert not self.problems, "problems on the page:\n" + "\n".join(self.problems)


# --- A company per test -------------------------------------------------------------------------------------------


@dataclass
class Person:
    id: int
    username: str
    display_name: str
    type: UserType

    @property
    def caller(self) -> Caller:
        return Caller(user_id=self.id, username=self.username, type=self.type)


@dataclass
class Company:
    """A team with a customer, a project (prefix WEB), activities and people, all named uniquely for one test."""

    database_url: str
    key_ring: KeyRing
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    people: dict[str, Person] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    # Names as a real company's, for pictures: at most one such company per database (names are unique).
    plain: bool = False

    def name(self, base: str) -> str:
        return base if self.plain else f"{base} {self.tag}"

    async def build(self, *people: tuple[str, UserType] | tuple[str, UserType, str]) -> Company:
        async def work(session: Any) -> None:
            for short, user_type, *display in people:
                user = await create_user(
                    session,
                    f"{short}-{self.tag}",
                    password=PASSWORD,
                    user_type=user_type,
                    display_name=display[0] if display else f"{short.capitalize()} Example",
                )
                self.people[short] = Person(user.id, user.username, user.display_name, user.type)
            members = [await session.get(User, person.id) for person in self.people.values()]
            team = Team(name=f"Team {self.tag}")
            team.members = members
            customer = Customer(name=self.name("Acme"))
            customer.teams = [team]
            session.add_all([team, customer])
            await session.flush()
            project = Project(name=self.name("Website"), customer_id=customer.id, ticket_prefixes=["WEB"])
            development = Activity(name=self.name("Development"))
            meeting = Activity(name=self.name("Meeting"))
            vacation = Activity(name=self.name("Vacation"))
            session.add_all([project, development, meeting, vacation])
            await session.flush()
            self.ids.update(
                team=team.id,
                customer=customer.id,
                project=project.id,
                development=development.id,
                meeting=meeting.id,
                vacation=vacation.id,
            )

        await run_in_session(self.database_url, work)
        return self

    async def add_preset(self, name: str, activity: str, description: str = "") -> int:
        async def work(session: Any) -> int:
            preset = Preset(
                name=self.name(name),
                customer_id=self.ids["customer"],
                project_id=self.ids["project"],
                activity_id=self.ids[activity],
                description=description,
            )
            session.add(preset)
            await session.flush()
            return preset.id

        return int(await run_in_session(self.database_url, work))

    async def add_contract(self, who: str, hours: Decimal = Decimal(8), start: date | None = None) -> None:
        weekdays = {f"hours_{n}": hours for n in range(1, 6)}
        start = start or date.today() - timedelta(days=date.today().weekday())
        await run_in_session(
            self.database_url,
            lambda session: _add(session, Contract(user_id=self.people[who].id, start=start, **weekdays)),
        )

    async def add_holiday(self, day: date, name: str) -> None:
        async def work(session: Any) -> None:
            found = await session.get(Holiday, day)
            if found is None:
                session.add(Holiday(day=day, name=name))

        await run_in_session(self.database_url, work)

    async def book(self, who: str, day: date, start: str, end: str, ticket: str = "", **values: Any) -> int:
        data = EntryCreate(
            day=day,
            start=start,
            end=end,
            project_id=values.pop("project_id", self.ids["project"]),
            activity_id=values.pop("activity_id", self.ids["development"]),
            ticket=ticket,
            **values,
        )

        async def work(session: Any) -> int:
            return (await create_entry(session, self.people[who].caller, data)).id

        return int(await run_in_session(self.database_url, work))

    async def link_tasklog(self, who: str, fake: FakeTasklog, *, connected: bool, kind: str = "tasklog") -> int:
        """A Tasklog system on the company's project (prefixes WEB and TL), enabled for `who`; `kind` tasklog
        connects through OAuth 2, tasklog-token with a personal token."""

        async def work(session: Any) -> int:
            system = TicketSystem(
                name=self.name("Tasklog"),
                type=kind,
                base_url=fake.base_url,
                config={"client_id": fake.client_id} if kind == "tasklog" else {},
                secrets=seal_system_secrets({"client_secret": fake.client_secret}, self.key_ring),
                book_time=True,
            )
            session.add(system)
            await session.flush()
            await session.execute(
                update(Project)
                .where(Project.id == self.ids["project"])
                .values(ticket_system_id=system.id, ticket_prefixes=["WEB", "TL"])
            )
            link = Link(user_id=self.people[who].id, ticket_system_id=system.id, enabled=True)
            if connected:
                access, refresh = fake.issue_tokens("u1", lifetime=3600)
                store_credentials(
                    link, Credentials(access_token=access, secret=refresh, account_id="u1"), self.key_ring
                )
            session.add(link)
            await session.flush()
            return system.id

        system_id = int(await run_in_session(self.database_url, work))
        self.ids["tasklog"] = system_id
        return system_id

    async def cache_ticket(self, key: str, summary: str, status: str) -> None:
        ticket = TicketData(key=key, summary=summary, status=status, updated_at=datetime.now(UTC))
        await run_in_session(
            self.database_url,
            lambda session: upsert_ticket(session, self.ids["tasklog"], ticket, now=datetime.now(UTC)),
        )

    async def set_sync_state(
        self, entry_id: int, state: SyncState, *, error: str | None = None, remote: dict[str, Any] | None = None
    ) -> None:
        """Put an entry in a sync state directly (for pictures; the flows reach each state through a worker)."""

        async def work(session: Any) -> None:
            entry = await session.get(Entry, entry_id)
            entry.sync_state, entry.sync_error = state, error
            if state in (SyncState.SYNCED, SyncState.CONFLICT):
                entry.worklog_id = f"w{entry_id}"
            if remote is not None:
                session.add(WorklogSyncState(entry_id=entry_id, base=remote, conflict_remote=remote))

        await run_in_session(self.database_url, work)

    async def entries_of(self, who: str) -> list[Entry]:
        async def work(session: Any) -> list[Entry]:
            from sqlalchemy import select

            rows = await session.scalars(
                select(Entry)
                .where(Entry.user_id == self.people[who].id, Entry.deleted_at.is_(None))
                .order_by(Entry.day, Entry.start)
            )
            return list(rows.all())

        result: list[Entry] = await run_in_session(self.database_url, work)
        return result

    async def close(self) -> None:
        """Disable this company's links, so no later worker keeps trying a fake tracker that has gone."""
        ids = [person.id for person in self.people.values()]
        await run_in_session(
            self.database_url,
            lambda session: session.execute(update(Link).where(Link.user_id.in_(ids)).values(enabled=False)),
        )


async def _add(session: Any, *rows: Any) -> None:
    session.add_all(rows)
    await session.flush()


def this_week() -> list[date]:
    monday = date.today() - timedelta(days=date.today().weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- Pages --------------------------------------------------------------------------------------------------------


async def log_in(page: Page, person: Person, *, remember: bool = False, next_path: str = "/week") -> None:
    await page.goto(f"/login?next={next_path}")
    await page.get_by_label("Username").fill(person.username)
    await page.get_by_label("Password").fill(PASSWORD)
    if remember:
        await page.get_by_label("Keep me logged in for 30 days").check()
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


async def screenshots(page: Page, output: Path, name: str) -> None:
    """The page as it is now, at desktop and at phone width, full length."""
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.wait_for_timeout(50)
        await page.screenshot(path=output / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size(original)


async def no_horizontal_scroll(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def unlabelled_fields_script() -> str:
    """JavaScript listing the visible form fields that have no accessible label."""
    return """
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => el.offsetParent !== null)
      .filter((el) => !(el.labels && el.labels.length))
      .filter((el) => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.name || el.id)
    """


def texts(values: Iterable[str]) -> list[str]:
    return [" ".join(value.split()) for value in values]
