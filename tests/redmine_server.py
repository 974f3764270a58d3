"""A real Redmine 5 (Debian's `redmine`, `redmine-sqlite`, `thin`) on a loopback port, for end-to-end tests.

`start_redmine` copies the installed Redmine's SQLite database into the test's folder (so each pytest-xdist
worker has a Redmine and a database of its own, and the installed one is left alone), enables the REST API,
lets the Developer role edit its own time entries (Redmine's default does not), reads the admin's API key with
`rails runner`, and starts `rails server` (thin). Tests create their
own projects, users, memberships and issues through the REST API, with unique names, so they do not depend on
each other or on what earlier runs left in Redmine's database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REDMINE_HOME = Path("/usr/share/redmine")
# Where Debian's redmine-sqlite keeps the default instance's database (dbconfig-common).
INSTALLED_DATABASE = Path("/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default")
PREPARE = (
    'Setting.rest_api_enabled = "1"; '
    'role = Role.find_by_name("Developer"); '
    "role.add_permission!(:edit_own_time_entries) unless role.permissions.include?(:edit_own_time_entries); "
    'puts User.find_by_login("admin").api_key'
)
DEVELOPER_ROLE = "Developer"


@dataclass(frozen=True)
class RedmineUser:
    id: int
    login: str
    api_key: str


@dataclass
class RedmineServer:
    url: str
    admin_key: str
    process: subprocess.Popen[bytes]

    def request(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-Redmine-API-Key": key or self.admin_key, **kwargs.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create_project(self) -> str:
        identifier = f"gw-{uuid.uuid4().hex[:10]}"
        self.ok(
            "POST",
            "/projects.json",
            json={
                "project": {
                    "name": identifier,
                    "identifier": identifier,
                    "is_public": False,
                    "enabled_module_names": ["issue_tracking", "time_tracking"],
                    "tracker_ids": [1],
                }
            },
        )
        return identifier

    def create_user(self) -> RedmineUser:
        login = f"gw{uuid.uuid4().hex[:10]}"
        body = self.ok(
            "POST",
            "/users.json",
            json={
                "user": {
                    "login": login,
                    "firstname": "Gateway",
                    "lastname": login,
                    "mail": f"{login}@example.org",
                    "password": uuid.uuid4().hex,
                }
            },
        )
        return RedmineUser(id=body["user"]["id"], login=login, api_key=body["user"]["api_key"])

    def add_member(self, project: str, user: RedmineUser) -> None:
        roles = self.ok("GET", "/roles.json")["roles"]
        role_id = next(role["id"] for role in roles if role["name"] == DEVELOPER_ROLE)
        self.ok(
            "POST",
            f"/projects/{project}/memberships.json",
            json={"membership": {"user_id": user.id, "role_ids": [role_id]}},
        )

    def create_issue(self, project: str, subject: str = "Gateway test issue") -> int:
        body = self.ok(
            "POST", "/issues.json", json={"issue": {"project_id": project, "subject": subject, "tracker_id": 1}}
        )
        return int(body["issue"]["id"])

    def activities(self) -> dict[str, int]:
        items = self.ok("GET", "/enumerations/time_entry_activities.json")["time_entry_activities"]
        return {item["name"]: item["id"] for item in items}

    def time_entries(self, *, issue: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.ok("GET", f"/time_entries.json?issue_id={issue}&limit=100")["time_entries"]
        return entries


def redmine_available() -> bool:
    return (
        (REDMINE_HOME / "bin" / "rails").exists() and INSTALLED_DATABASE.exists() and shutil.which("ruby") is not None
    )


def start_redmine(directory: Path) -> RedmineServer:
    database = directory / "redmine.sqlite3"
    shutil.copyfile(INSTALLED_DATABASE, database)
    # Rails takes DATABASE_URL over config/database.yml: this Redmine runs on the copy.
    env = {**os.environ, "RAILS_ENV": "production", "DATABASE_URL": f"sqlite3:{database}"}
    prepared = subprocess.run(
        ["bin/rails", "runner", PREPARE], cwd=REDMINE_HOME, env=env, capture_output=True, text=True, check=True
    )
    admin_key = prepared.stdout.strip().splitlines()[-1]
    port = _free_port()
    log = (directory / "redmine.log").open("wb")
    process = subprocess.Popen(
        ["bin/rails", "server", "-b", "127.0.0.1", "-p", str(port), "-P", str(directory / "server.pid")],
        cwd=REDMINE_HOME,
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return RedmineServer(url=url, admin_key=admin_key, process=process)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"Redmine did not start: {(directory / 'redmine.log').read_text()[-2000:]}")
        time.sleep(0.3)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
