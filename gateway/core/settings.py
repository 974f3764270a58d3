"""Settings, read once from the environment at start-up.

This is the only module that reads environment variables. Every other part receives a `Settings`.

| variable | meaning | default |
|---|---|---|
| `DATABASE_URL` | SQLAlchemy URL: `sqlite:///path.db` or `postgresql+psycopg://user@host/db` | `sqlite:///gateway.db` |
| `REDIS_URL` | arq's Redis, e.g. `redis://127.0.0.1:6379/0`; unset: jobs run in-process | unset |
| `GATEWAY_SECRET_KEYS` | key ring, `id:key` items separated by commas; the first encrypts | unset |
| `GATEWAY_SECRET_KEYS_FILE` | file with one `id:key` per line (used when `GATEWAY_SECRET_KEYS` is unset) | unset |
| `GATEWAY_LOG_LEVEL` | `DEBUG`, `INFO`, `WARNING`, `ERROR` | `INFO` |
| `GATEWAY_LOG_FORMAT` | `json`, `console`, or `auto` (console on a terminal, JSON elsewhere) | `auto` |
| `GATEWAY_PUBLIC_URL` | the gateway's address as browsers and trackers reach it (OAuth callbacks) | the request's |
| `GATEWAY_JOB_TIMEOUT` | seconds a sync job may run before it is stopped | `300` |
| `GATEWAY_JOB_MAX_TRIES` | how often a job is retried (rate limits, outages) before it gives up | `20` |
| `GATEWAY_WORKER_MAX_JOBS` | jobs one worker runs at once | `10` |
| `GATEWAY_TRACKER_RATE` | requests per second to one ticket system, shared by all workers | `10` |
| `DATABASE_REPLICA_URL` | a streaming replica of `DATABASE_URL` for reports and exports | unset: the primary |
| `GATEWAY_REPLICA_MAX_LAG` | seconds a replica may lag before reports go to the primary | `30` |
| `GATEWAY_DB_PREPARED_STATEMENTS` | `false` behind a transaction-pooling PgBouncer (before 1.21) | `true` |
| `PROMETHEUS_MULTIPROC_DIR` | a directory shared by the host's gateway processes: `/metrics` sums them | unset |
| `LDAP_URL` | LDAP server for logins, e.g. `ldaps://ldap.example.org` | unset: local accounts only |
| `LDAP_BIND_DN_TEMPLATE` | the user's DN with `{username}`, e.g. `uid={username},ou=people,dc=example,dc=org` | unset |
| `LDAP_USER_TYPE` | role of a user created at their first LDAP login: USER, DEV, PL or ADMIN | `DEV` |
| `LDAP_TIMEOUT` | seconds to wait for the LDAP server | `5` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gateway.core.auth.ldap import LdapConfig
from gateway.core.db import is_sqlite, parse_database_url
from gateway.core.enums import UserType
from gateway.core.errors import ConfigError, KeyRingError
from gateway.core.vault import KeyRing

DEFAULT_DATABASE_URL = "sqlite:///gateway.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LogFormat = Literal["auto", "json", "console"]


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    key_ring: KeyRing | None = None
    log_level: str = "INFO"
    log_format: LogFormat = "auto"
    ldap: LdapConfig | None = None
    public_url: str | None = None
    job_timeout_seconds: int = 300
    job_max_tries: int = 20
    worker_max_jobs: int = 10
    tracker_requests_per_second: int = 10
    replica_url: str | None = None
    replica_max_lag_seconds: int = 30
    metrics_dir: str | None = None
    db_prepared_statements: bool = True

    def require_key_ring(self) -> KeyRing:
        """The key ring, or a `ConfigError` that tells how to configure one."""
        if self.key_ring is None:
            raise ConfigError(
                "no secret key ring configured: set GATEWAY_SECRET_KEYS or GATEWAY_SECRET_KEYS_FILE "
                "(`gateway keys generate --file PATH` creates a key file)"
            )
        return self.key_ring


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build `Settings` from `environ` (default: the process environment); raise `ConfigError` if invalid."""
    env = os.environ if environ is None else environ

    log_level = env.get("GATEWAY_LOG_LEVEL", "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"GATEWAY_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    log_format = env.get("GATEWAY_LOG_FORMAT", "auto").strip().lower()
    if log_format not in ("auto", "json", "console"):
        raise ConfigError(f"GATEWAY_LOG_FORMAT must be auto, json or console, not {log_format!r}")

    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    parse_database_url(database_url)
    replica_url = env.get("DATABASE_REPLICA_URL", "").strip() or None
    replica_on_postgres = replica_url is None or parse_database_url(replica_url).drivername == "postgresql"
    if replica_url is not None and not (replica_on_postgres and not is_sqlite(database_url)):
        raise ConfigError("DATABASE_REPLICA_URL needs PostgreSQL, for both DATABASE_URL and the replica")
    return Settings(
        database_url=database_url,
        redis_url=env.get("REDIS_URL", "").strip() or None,
        key_ring=_load_key_ring(env),
        log_level=log_level,
        log_format=log_format,  # type: ignore[arg-type]  # checked against the Literal above
        ldap=_load_ldap(env),
        public_url=_load_public_url(env),
        job_timeout_seconds=_positive_int(env, "GATEWAY_JOB_TIMEOUT", 300),
        job_max_tries=_positive_int(env, "GATEWAY_JOB_MAX_TRIES", 20),
        worker_max_jobs=_positive_int(env, "GATEWAY_WORKER_MAX_JOBS", 10),
        tracker_requests_per_second=_positive_int(env, "GATEWAY_TRACKER_RATE", 10),
        replica_url=replica_url,
        replica_max_lag_seconds=_positive_int(env, "GATEWAY_REPLICA_MAX_LAG", 30),
        metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR", "").strip() or None,
        db_prepared_statements=_boolean(env, "GATEWAY_DB_PREPARED_STATEMENTS", True),
    )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name} must be true or false, not {text!r}")
    return text in ("true", "1", "yes")


def _load_public_url(env: Mapping[str, str]) -> str | None:
    url = env.get("GATEWAY_PUBLIC_URL", "").strip().rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"GATEWAY_PUBLIC_URL must start with http:// or https://, not {url!r}")
    return url or None


def _load_ldap(env: Mapping[str, str]) -> LdapConfig | None:
    url = env.get("LDAP_URL", "").strip()
    template = env.get("LDAP_BIND_DN_TEMPLATE", "").strip()
    if not url and not template:
        return None
    if not url or not template:
        raise ConfigError("LDAP needs both LDAP_URL and LDAP_BIND_DN_TEMPLATE")
    if "{username}" not in template:
        raise ConfigError("LDAP_BIND_DN_TEMPLATE must contain {username}, e.g. uid={username},ou=people,dc=example")
    user_type = env.get("LDAP_USER_TYPE", "DEV").strip().upper()
    if user_type not in UserType.__members__:
        raise ConfigError(f"LDAP_USER_TYPE must be one of {', '.join(UserType.__members__)}, not {user_type!r}")
    try:
        timeout = float(env.get("LDAP_TIMEOUT", "5"))
    except ValueError:
        raise ConfigError("LDAP_TIMEOUT must be a number of seconds") from None
    return LdapConfig(url=url, bind_dn_template=template, user_type=UserType(user_type), timeout_seconds=timeout)


def _load_key_ring(env: Mapping[str, str]) -> KeyRing | None:
    inline = env.get("GATEWAY_SECRET_KEYS", "").strip()
    if inline:
        return _parse_key_ring(inline, "GATEWAY_SECRET_KEYS")
    path_text = env.get("GATEWAY_SECRET_KEYS_FILE", "").strip()
    if not path_text:
        return None
    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"GATEWAY_SECRET_KEYS_FILE names {path}, which does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read GATEWAY_SECRET_KEYS_FILE {path}: {exc.strerror}") from None
    return _parse_key_ring(text, f"key file {path}")


def _parse_key_ring(text: str, source: str) -> KeyRing:
    try:
        return KeyRing.parse(text)
    except KeyRingError as exc:
        raise ConfigError(f"{source}: {exc}") from None
