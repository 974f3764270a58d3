"""A fake Tasklog: an HTTP server on loopback with Tasklog's contract, for tests of the connector and the gateway.

Contract:
- OAuth 2.0. `GET /oauth/authorize` (response_type=code, client_id, redirect_uri, state, code_challenge,
  code_challenge_method=S256) authorises the user set in `next_login` and redirects to `redirect_uri` with
  `code` and `state`. `POST /oauth/token` (form, client_secret_post) answers `{access_token, refresh_token,
  expires_in, token_type}`; access tokens live `access_token_lifetime` seconds; a refresh returns a new refresh
  token and invalidates the old one; reusing an old refresh token revokes the whole grant (`invalid_grant`).
  `POST /oauth/revoke` forgets a token's grant.
- `GET /api/v1/me` → `{id, name, timezone}`.
- `POST /api/v1/issues/{key}/worklogs` `{date, start, minutes, note, marker}` → 201 worklog;
  `PUT /api/v1/worklogs/{id}` → 200; `DELETE /api/v1/worklogs/{id}` → 204 (404 when gone);
  `GET /api/v1/worklogs?issue=&marker=` → `{worklogs}`;
  `GET /api/v1/worklogs/changes?since=&page_token=&limit=` → `{worklogs, deleted, next_page_token, until}`: the
  caller's worklogs changed after `since` (ISO time), oldest first, and ids deleted after it; `until` is the
  position to read from next time.
- `GET /api/v1/issues/{key}` → `{key, title, state, assignee, updated_at}`;
  `GET /api/v1/issues?q=&updated_since=&limit=&page_token=` → `{issues, next_page_token}`: issues whose key starts
  with `q` or whose title contains it (case-insensitive), and/or changed at or after `updated_since` (ISO time),
  the most recently changed first for `q`, the oldest first otherwise.
- Errors: 401 `{"error": "invalid_token"}` for a missing, unknown or expired token; 404 `{"error": "not_found"}`;
  422 `{"errors": [...]}` for invalid input; `fail_next()` makes the next API request answer with any status and
  headers (a 429 with Retry-After, a 503), `fail_next_token()` the next token request.
- Rate limit: with `requests_per_second` set, API requests beyond that many in one second answer 429 with
  `Retry-After` (seconds to the next second), as Tasklog does; `rate_limited` counts them.
- Webhooks: `webhook(event, **data)` builds a delivery signed like Tasklog's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import socket
import threading
import time as clock
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import uvicorn
from litestar import Litestar, Request, Response, delete, get, post, put
from litestar.params import FromPath
from litestar.response import Redirect

ISO = "%Y-%m-%dT%H:%M:%S.%f+00:00"


@dataclass
class FakeUser:
    id: str
    name: str
    timezone: str = "Europe/Berlin"


@dataclass
class Grant:
    user: FakeUser
    refresh_token: str
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic seconds)
    used_refresh_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


class FakeTasklog:
    """The fake server and its state; tests change the state directly (under `lock`) and read what happened."""

    def __init__(
        self,
        *,
        client_id: str = "gateway",
        client_secret: str = "tasklog-client-secret",
        webhook_secret: str = "tasklog-webhook-secret",
        access_token_lifetime: int = 300,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_secret = webhook_secret
        self.access_token_lifetime = access_token_lifetime
        self.lock = threading.RLock()
        self.users = {"u1": FakeUser("u1", "Ada Lovelace"), "u2": FakeUser("u2", "Grace Hopper", "America/New_York")}
        self.next_login = "u1"
        self.issues: dict[str, dict[str, Any]] = {}
        self.worklogs: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[str, str, str]] = []  # (worklog id, author, when)
        self.grants: list[Grant] = []
        self.codes: dict[str, tuple[FakeUser, str, str | None]] = {}  # code -> (user, redirect_uri, challenge)
        self.calls: dict[str, int] = {}
        self.failures: list[Failure] = []
        self.token_failures: list[Failure] = []
        self.requests_per_second: int | None = None
        self.rate_limited = 0
        self._window = (0, 0)  # (second, requests in it)
        # The sorted changes of the last read, while no worklog changed (a 100 000-worklog read pages through it).
        self._mutations = 0
        self._changes_cache: tuple[tuple[Any, ...], list[dict[str, Any]]] | None = None
        # Every create takes this long to answer; `in_flight` says how many creates are open, per issue too.
        self.create_seconds = 0.0
        self.in_flight: dict[str, int] = {}
        self.max_in_flight = 0
        self.max_in_flight_per_issue = 0
        # Create the next worklog but answer 504 (as if the answer were lost), or only after this many seconds.
        self.lose_next_create_answer = False
        self.stall_next_create_seconds = 0.0
        self.created_markers: list[str | None] = []
        self.request_log: list[tuple[float, str, int]] = []  # (time, what, status)
        self._ids = itertools.count(1000)
        self.base_url = ""
        for key, title in (("TL-1", "Login page"), ("TL-2", "Invoices")):
            self.add_issue(key, title)

    # --- State that tests set up ------------------------------------------------------------------------------

    def add_issue(self, key: str, title: str, state: str = "open") -> dict[str, Any]:
        with self.lock:
            self.issues[key] = {
                "id": str(next(self._ids)), "key": key, "title": title, "state": state, "assignee": None,
                "updated_at": _now(),
            }  # fmt: skip
            return self.issues[key]

    def rename_issue(self, key: str, new_key: str) -> None:
        """Move an issue to another project in Tasklog itself: its key changes, its id and worklogs stay (the
        worklogs' own `updated_at` does not change, as in Jira)."""
        with self.lock:
            issue = self.issues.pop(key)
            self.issues[new_key] = {**issue, "key": new_key, "updated_at": _now()}
            for worklog in self.worklogs.values():
                if worklog["issue"] == key:
                    worklog["issue"] = new_key

    def edit_issue(self, key: str, **changes: Any) -> None:
        with self.lock:
            self.issues[key].update(changes, updated_at=_now())

    def add_worklog(
        self, user_id: str, issue: str, day: str, minutes: int, note: str = "", start: str = "09:00"
    ) -> str:
        """A worklog made directly in Tasklog (not through the gateway)."""
        with self.lock:
            worklog_id = str(next(self._ids))
            self.worklogs[worklog_id] = {
                "id": worklog_id, "issue": issue, "issue_id": self.issues.get(issue, {}).get("id"), "date": day,
                "start": start, "minutes": minutes, "note": note, "marker": None, "author": user_id,
                "updated_at": _now(),
            }  # fmt: skip
            self._mutations += 1
            return worklog_id

    def edit_worklog(self, worklog_id: str, **changes: Any) -> None:
        with self.lock:
            self.worklogs[worklog_id].update(changes, updated_at=_now())
            self._mutations += 1

    def remove_worklog(self, worklog_id: str) -> None:
        with self.lock:
            worklog = self.worklogs.pop(worklog_id)
            self.deleted.append((worklog_id, worklog["author"], _now()))
            self._mutations += 1

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: dict[str, Any] | None = None) -> None:
        """The next API request (not OAuth) answers with this status."""
        with self.lock:
            self.failures.append(Failure(status, headers or {}, body or {"error": f"injected {status}"}))

    def fail_next_token(self, status: int, headers: dict[str, str] | None = None) -> None:
        """The next token request (a code exchange or a refresh) answers with this status."""
        with self.lock:
            self.token_failures.append(Failure(status, headers or {}, {"error": f"injected {status}"}))

    def issue_tokens(self, user_id: str = "u1", *, lifetime: int | None = None) -> tuple[str, str]:
        """An (access token, refresh token) pair for a user, as if they had authorised."""
        with self.lock:
            grant = Grant(self.users[user_id], _token("rt"))
            self.grants.append(grant)
            return self._new_access_token(grant, lifetime), grant.refresh_token

    def expire_access_tokens(self) -> None:
        with self.lock:
            for grant in self.grants:
                grant.access_tokens = dict.fromkeys(grant.access_tokens, 0.0)

    def webhook(
        self, event: str, *, delivery_id: str | None = None, secret: str | None = None, **data: Any
    ) -> tuple[dict[str, str], bytes]:
        """A webhook delivery as Tasklog sends it: (headers, body)."""
        body = json.dumps({"event": event, **data}).encode()
        signature = hmac.new((secret or self.webhook_secret).encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Tasklog-Signature": f"sha256={signature}",
            "X-Tasklog-Delivery": delivery_id or str(uuid.uuid4()),
        }
        return headers, body

    def count(self, name: str) -> int:
        with self.lock:
            return self.calls.get(name, 0)

    # --- Serving ----------------------------------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[FakeTasklog]:
        """Run the server on a free loopback port for the duration of the block; `base_url` says where."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(self.app(), log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = clock.monotonic() + 10
        while not server.started:
            if clock.monotonic() > deadline:
                raise RuntimeError("the fake Tasklog did not start")
            clock.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

    def app(self) -> Litestar:
        fake = self

        @get("/oauth/authorize")
        async def authorize(request: Request[Any, Any, Any]) -> Response[Any]:
            query = request.query_params
            fake._count("authorize")
            if query.get("client_id") != fake.client_id or query.get("response_type") != "code":
                return Response({"error": "unauthorized_client"}, status_code=400)
            if query.get("code_challenge_method", "S256") != "S256":
                return Response({"error": "invalid_request", "error_description": "S256 only"}, status_code=400)
            code = _token("code")
            redirect_uri = query["redirect_uri"]
            with fake.lock:
                fake.codes[code] = (fake.users[fake.next_login], redirect_uri, query.get("code_challenge"))
            return Redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")

        @post("/oauth/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[Any]:
            form = await request.form()
            if form.get("client_id") != fake.client_id or form.get("client_secret") != fake.client_secret:
                return Response({"error": "invalid_client"}, status_code=401)
            grant_type = form.get("grant_type")
            fake._count(f"token:{grant_type}")
            with fake.lock:
                if fake.token_failures:
                    failure = fake.token_failures.pop(0)
                    return Response(failure.body, status_code=failure.status, headers=failure.headers)
                if grant_type == "authorization_code":
                    found = fake.codes.pop(str(form.get("code")), None)
                    if found is None or found[1] != form.get("redirect_uri"):
                        return _invalid_grant("unknown or used code")
                    user, _, challenge = found
                    if challenge is not None and _s256(str(form.get("code_verifier", ""))) != challenge:
                        return _invalid_grant("PKCE verification failed")
                    grant = Grant(user, _token("rt"))
                    fake.grants.append(grant)
                elif grant_type == "refresh_token":
                    refresh = str(form.get("refresh_token"))
                    grant = next((g for g in fake.grants if refresh in (g.refresh_token, *g.used_refresh_tokens)), None)
                    if grant is None or grant.revoked:
                        return _invalid_grant("unknown refresh token")
                    if refresh != grant.refresh_token:
                        grant.revoked = True  # a rotated token used again: treat the grant as stolen
                        return _invalid_grant("refresh token reused; grant revoked")
                    grant.used_refresh_tokens.add(refresh)
                    grant.refresh_token = _token("rt")
                else:
                    return Response({"error": "unsupported_grant_type"}, status_code=400)
                access = fake._new_access_token(grant, None)
                return Response(
                    {
                        "access_token": access,
                        "refresh_token": grant.refresh_token,
                        "expires_in": fake.access_token_lifetime,
                        "token_type": "Bearer",
                    }
                )

        @post("/oauth/revoke", status_code=200)
        async def revoke(request: Request[Any, Any, Any]) -> dict[str, str]:
            form = await request.form()
            token_value = str(form.get("token"))
            fake._count("revoke")
            with fake.lock:
                for grant in fake.grants:
                    if token_value == grant.refresh_token or token_value in grant.access_tokens:
                        grant.revoked = True
            return {}

        @get("/api/v1/me")
        async def me(request: Request[Any, Any, Any]) -> Response[Any]:
            user, refused = fake._authenticate(request, "me")
            if refused:
                return refused
            return Response({"id": user.id, "name": user.name, "timezone": user.timezone})

        @get("/api/v1/issues/{key:str}")
        async def issue(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
            _user, refused = fake._authenticate(request, "issue")
            if refused:
                return refused
            with fake.lock:
                found = fake.issues.get(key)
            return Response(found) if found else _not_found()

        @get("/api/v1/issues")
        async def issues(request: Request[Any, Any, Any]) -> Response[Any]:
            _user, refused = fake._authenticate(request, "issues")
            if refused:
                return refused
            query = request.query_params
            text = (query.get("q") or "").strip().lower()
            since = query.get("updated_since")
            limit = min(int(query.get("limit") or 50), 100)
            offset = int(query.get("page_token") or 0)
            with fake.lock:
                found = [
                    issue for issue in fake.issues.values()
                    if (not text or issue["key"].lower().startswith(text) or text in issue["title"].lower())
                    and (not since or issue["updated_at"] >= _iso(since))
                ]  # fmt: skip
            found.sort(key=lambda issue: issue["updated_at"], reverse=bool(text))
            page = found[offset : offset + limit]
            more = offset + limit < len(found)
            return Response({"issues": page, "next_page_token": str(offset + limit) if more else None})

        @post("/api/v1/issues/{key:str}/worklogs", status_code=201)
        async def create_worklog(request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
            user, refused = fake._authenticate(request, "create worklog")
            if refused:
                return refused
            body = await request.json()
            with fake.lock:
                if key not in fake.issues:
                    return Response({"errors": [f"issue {key} does not exist"]}, status_code=422)
                problem = _invalid_worklog(body)
                if problem:
                    return Response({"errors": [problem]}, status_code=422)
                worklog_id = str(next(fake._ids))
                fake.worklogs[worklog_id] = {
                    "id": worklog_id, "issue": key, "issue_id": fake.issues[key]["id"], "author": user.id,
                    "updated_at": _now(),
                    **{k: body.get(k) for k in ("date", "start", "minutes", "note", "marker")},
                }  # fmt: skip
                fake.created_markers.append(body.get("marker"))
                fake._mutations += 1
                created = dict(fake.worklogs[worklog_id])
                lose, fake.lose_next_create_answer = fake.lose_next_create_answer, False
                stall, fake.stall_next_create_seconds = fake.stall_next_create_seconds, 0.0
                stall += fake.create_seconds
                fake.in_flight[key] = fake.in_flight.get(key, 0) + 1
                fake.max_in_flight = max(fake.max_in_flight, sum(fake.in_flight.values()))
                fake.max_in_flight_per_issue = max(fake.max_in_flight_per_issue, fake.in_flight[key])
            try:
                if stall:
                    await asyncio.sleep(stall)
            finally:
                with fake.lock:
                    fake.in_flight[key] -= 1
            if lose:
                return Response({"error": "gateway timeout"}, status_code=504)
            return Response(created, status_code=201)

        @put("/api/v1/worklogs/{worklog_id:str}")
        async def update_worklog(request: Request[Any, Any, Any], worklog_id: FromPath[str]) -> Response[Any]:
            user, refused = fake._authenticate(request, "update worklog")
            if refused:
                return refused
            body = await request.json()
            with fake.lock:
                worklog = fake.worklogs.get(worklog_id)
                if worklog is None or worklog["author"] != user.id:
                    return _not_found()
                problem = _invalid_worklog(body)
                if problem:
                    return Response({"errors": [problem]}, status_code=422)
                worklog.update(
                    {k: body.get(k) for k in ("date", "start", "minutes", "note", "marker")}, updated_at=_now()
                )
                fake._mutations += 1
                return Response(worklog)

        @delete("/api/v1/worklogs/{worklog_id:str}", status_code=200)  # the handler sets 204 itself
        async def delete_worklog(request: Request[Any, Any, Any], worklog_id: FromPath[str]) -> Response[Any]:
            user, refused = fake._authenticate(request, "delete worklog")
            if refused:
                return refused
            with fake.lock:
                worklog = fake.worklogs.get(worklog_id)
                if worklog is None or worklog["author"] != user.id:
                    return _not_found()
                fake.remove_worklog(worklog_id)
            return Response(None, status_code=204)

        @get("/api/v1/worklogs")
        async def find_worklogs(request: Request[Any, Any, Any]) -> Response[Any]:
            user, refused = fake._authenticate(request, "find worklogs")
            if refused:
                return refused
            issue_key, marker = request.query_params.get("issue"), request.query_params.get("marker")
            with fake.lock:
                found = [
                    w for w in fake.worklogs.values()
                    if w["author"] == user.id and w["issue"] == issue_key and (marker is None or w["marker"] == marker)
                ]  # fmt: skip
            return Response({"worklogs": found})

        @get("/api/v1/worklogs/changes")
        async def changes(request: Request[Any, Any, Any]) -> Response[Any]:
            user, refused = fake._authenticate(request, "changes")
            if refused:
                return refused
            query = request.query_params
            since = query.get("since", "")
            # A page token pins the read's snapshot (`until`), so later changes wait for the next read.
            offset_text, _, pinned = (query.get("page_token") or "0|").partition("|")
            offset = int(offset_text)
            limit = int(query.get("limit") or 100)
            with fake.lock:
                until = pinned or _now()
                key = (user.id, since, until, fake._mutations)
                if fake._changes_cache is not None and fake._changes_cache[0] == key:
                    changed = fake._changes_cache[1]
                else:
                    changed = sorted(
                        (
                            w
                            for w in fake.worklogs.values()
                            if w["author"] == user.id and since < w["updated_at"] <= until
                        ),
                        key=lambda w: (w["updated_at"], w["id"]),
                    )
                    fake._changes_cache = (key, changed)
                deleted = [i for i, author, when in fake.deleted if author == user.id and since < when <= until]
            page = changed[offset : offset + limit]
            more = offset + limit < len(changed)
            return Response(
                {
                    "worklogs": page,
                    "deleted": deleted if offset == 0 else [],
                    "next_page_token": f"{offset + limit}|{until}" if more else None,
                    "until": until,
                }
            )

        return Litestar(
            route_handlers=[
                authorize,
                token,
                revoke,
                me,
                issue,
                issues,
                create_worklog,
                update_worklog,
                delete_worklog,
                find_worklogs,
                changes,
            ],
            logging_config=None,
            openapi_config=None,
        )

    # --- Internals --------------------------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1

    def _new_access_token(self, grant: Grant, lifetime: int | None) -> str:
        token_value = _token("at")
        grant.access_tokens[token_value] = clock.monotonic() + (lifetime or self.access_token_lifetime)
        return token_value

    def _authenticate(self, request: Request[Any, Any, Any], name: str) -> tuple[FakeUser, Response[Any] | None]:
        self._count(name)
        with self.lock:
            if self.requests_per_second is not None:
                now = clock.time()
                second, used = self._window
                if int(now) != second:
                    second, used = int(now), 0
                self._window = (second, used + 1)
                if used >= self.requests_per_second:
                    self.rate_limited += 1
                    self.request_log.append((now, name, 429))
                    retry_after = str(max(1, int(second + 1 - now + 0.999)))
                    return self.users["u1"], Response(
                        {"error": "rate_limited"}, status_code=429, headers={"Retry-After": retry_after}
                    )
            if self.failures:
                failure = self.failures.pop(0)
                self.request_log.append((clock.time(), name, failure.status))
                return self.users["u1"], Response(failure.body, status_code=failure.status, headers=failure.headers)
            self.request_log.append((clock.time(), name, 200))
            token_value = request.headers.get("authorization", "").removeprefix("Bearer ")
            for grant in self.grants:
                expiry = grant.access_tokens.get(token_value)
                if expiry is not None and not grant.revoked and expiry > clock.monotonic():
                    return grant.user, None
        return self.users["u1"], Response({"error": "invalid_token"}, status_code=401)


def _invalid_worklog(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("minutes"), int) or body["minutes"] <= 0:
        return "minutes must be a positive whole number"
    if not isinstance(body.get("date"), str):
        return "date is required"
    return None


def _invalid_grant(description: str) -> Response[Any]:
    return Response({"error": "invalid_grant", "error_description": description}, status_code=400)


def _not_found() -> Response[Any]:
    return Response({"error": "not_found"}, status_code=404)


def _token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _iso(text: str) -> str:
    """A client's ISO time in the fake's own sortable format."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).strftime(ISO)


def _now() -> str:
    # Microseconds and a fixed offset: these strings sort in time order, which the change feed relies on.
    return datetime.now(UTC).strftime(ISO)
