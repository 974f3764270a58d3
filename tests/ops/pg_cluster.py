"""A PostgreSQL primary and its streaming replica, made by Debian's tools for one test module.

Both clusters live in a temporary directory, listen on loopback ports of their own and run as the `postgres` user
(PostgreSQL refuses to run as root); the machine's own cluster is not touched.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support import free_port

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def unavailable() -> str | None:
    """Why the clusters cannot be made here, or None."""
    if not (BIN / "initdb").exists():
        return f"PostgreSQL's server tools are not in {BIN}"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres user"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "the clusters must run as postgres: run the tests as root or as postgres"
    return None


@dataclass
class Cluster:
    name: str
    data: Path
    port: int
    sockets: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True, connect_timeout=5
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.sockets}"
        log = self.data.parent / f"{self.name}.log"
        run([str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])

    def stop(self) -> None:
        run([str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], check=False)

    def log(self) -> str:
        path = self.data.parent / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def run(args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=180)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr or result.stdout}")
    return result


@contextmanager
def streaming_pair() -> Iterator[tuple[Cluster, Cluster]]:
    """A running primary and a hot-standby replica that streams from it (`pg_basebackup -R`)."""
    base = Path(tempfile.mkdtemp(prefix="gw-replica-"))
    postgres = pwd.getpwnam("postgres")
    os.chmod(base, 0o700)
    if os.geteuid() == 0:
        os.chown(base, postgres.pw_uid, postgres.pw_gid)
    primary = Cluster("primary", base / "primary", free_port(), base)
    replica = Cluster("replica", base / "replica", free_port(), base)
    try:
        initdb = [str(BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "--auth=trust", "--no-locale"]
        run([*initdb, "-E", "UTF8"])
        primary.start()
        run(
            [
                str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast",
            ]
        )  # fmt: skip
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)


def wait_for_replay(primary: Cluster, replica: Cluster, *, within: float = 60) -> None:
    """Until the replica has replayed everything the primary wrote so far."""
    with primary.connect() as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + within
    with replica.connect() as conn:
        while True:
            row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(target),)).fetchone()
            if row and row[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the replica did not catch up within {within:g} s\n{replica.log()[-3000:]}")
            time.sleep(0.1)
