"""Behind a transaction-pooling PgBouncer (Debian's package): many API requests share two server connections.

The gateway holds no session state on a server connection between transactions — no advisory locks, no `SET`, no
`LISTEN`, row locks only inside transactions — so the one thing to switch off is psycopg's automatic prepared
statements (`GATEWAY_DB_PREPARED_STATEMENTS=false`): PgBouncer before 1.21 does not carry a statement prepared on
one server connection over to the next.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.api.conftest import AppClientFactory
from tests.api.world import World
from tests.conftest import service_missing
from tests.support import free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SERVER_CONNECTIONS = 2


class PgBouncer:
    def __init__(self, server_url: str) -> None:
        server = make_url(server_url)
        self.server_host, self.server_port = server.host or "127.0.0.1", server.port or 5432
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="gw-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        (self.directory / "users.txt").write_text('"postgres" ""\n')
        (self.directory / "pgbouncer.ini").write_text(
            f"""[databases]
* = host={self.server_host} port={self.server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory}/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits,options
logfile = {self.directory}/pgbouncer.log
"""
        )
        command = [PGBOUNCER, str(self.directory / "pgbouncer.ini")]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            postgres = pwd.getpwnam("postgres")
            for path in (self.directory, *self.directory.iterdir()):
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.admin_conninfo(), autocommit=True, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                assert self.process.poll() is None, self.log()
                assert time.monotonic() < deadline, f"pgbouncer did not answer\n{self.log()}"
                time.sleep(0.2)

    def admin_conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=pgbouncer"

    def transactions(self, database: str) -> int:
        """Transactions PgBouncer passed on to `database` so far."""
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            conn.prepare_threshold = None
            cursor = conn.execute("SHOW STATS")
            columns = [column.name for column in cursor.description or []]
            for row in cursor.fetchall():
                stats = dict(zip(columns, row, strict=True))
                if stats["database"] == database:
                    return int(stats["total_xact_count"])
        return 0

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def pgbouncer(pg_url: str) -> Iterator[PgBouncer]:
    if not Path(PGBOUNCER).exists():
        service_missing("PgBouncer", PGBOUNCER, "not installed (Debian's package pgbouncer)")
    bouncer = PgBouncer(pg_url)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


async def test_the_api_works_behind_a_transaction_pooling_pgbouncer(
    world: World, pgbouncer: PgBouncer, make_client: AppClientFactory
) -> None:
    database = make_url(world.database_url).database
    assert database is not None
    through = pgbouncer.url(database)
    before = pgbouncer.transactions(database)
    async with make_client(through, db_prepared_statements=False) as client:
        project = world.id("projects", "Alpha Web")
        meeting = world.id("activities", "Meeting")

        async def book(hour: int) -> int:
            response = await client.post(
                "/api/entries",
                headers=world.headers("dev_a"),
                json={"day": "2026-11-24", "start": f"{hour:02d}:00", "end": f"{hour:02d}:30",
                      "project_id": project, "activity_id": meeting},
            )  # fmt: skip
            return response.status_code

        async def read(username: str) -> int:
            listed = await client.get("/api/entries", headers=world.headers(username))
            report = await client.get(
                "/api/reports/time",
                headers=world.headers(username),
                params={"first_day": "2026-11-01", "last_day": "2026-11-30", "group_by": "user,project"},
            )
            return max(listed.status_code, report.status_code)

        # Far more concurrent transactions than server connections, each statement many times over.
        for _round in range(3):
            answers = await asyncio.gather(
                *(read(username) for username in ("admin", "pl_a", "dev_a", "dev_b") for _ in range(5)),
                *(book(hour) for hour in range(8 + _round * 4, 12 + _round * 4)),
            )
            assert set(answers) <= {200, 201}, answers
        assert (await client.get("/health/ready")).status_code == 200
    assert pgbouncer.transactions(database) - before >= 60  # it all went through PgBouncer
