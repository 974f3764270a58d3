"""A fake GitLab on loopback: the GraphQL endpoint (timelogs), OAuth 2.0 with PKCE, and the REST issue reads.

Every GraphQL request is parsed and validated with graphql-core against GitLab's own schema subset
(`spec/timelogs.graphql`, transcribed from GitLab's reference) and then executed against the fake's data by
graphql-core, so the answer has exactly the shape the query asked for. A request that does not validate is
answered as GitLab answers it (HTTP 200 with `errors`) and recorded in `violations`; the tests fail on any.

What it models, after GitLab's documentation and source:
- Timelogs belong to the token's owner, per user; `timelogCreate` refuses a future `spentAt`, a zero or unreadable
  `timeSpent` (the duration syntax `1h 30m`, a bare number is hours, 1d = 8h, 1w = 5d) and a summary over 255
  characters (payload `errors`, HTTP 200), and needs at least the Planner role; `timelogDelete` only for the author
  or a Maintainer, otherwise (and for a timelog that does not exist) the top-level "does not exist or you don't
  have permission" error. Ids are global ids (`gid://gitlab/Timelog/45`), ever increasing.
- `Query.timelogs` needs a filter, refuses `startDate` with `startTime` (and `endDate` with `endTime`), bounds
  apply to `spentAt` inclusively, dates widen to whole days; connections give at most 100 nodes a page with
  cursors; a query may be 10,000 characters at most. Project paths match without regard to case.
- OAuth 2.0: `/oauth/authorize` (code, state, PKCE S256 required), `/oauth/token` (form encoded; the verifier is
  checked; access tokens live 2 hours; every refresh rotates both tokens and the old refresh token is refused
  with `invalid_grant`), `/oauth/revoke`. Personal access tokens as `PRIVATE-TOKEN` or Bearer; an unknown token
  is a 401.
- REST: `GET /api/v4/user`, `/projects/:id/issues/:iid`, `/projects/:id/merge_requests/:iid`,
  `/projects/:id/issues` and `/issues` (search, `updated_after`, `state`, page/per_page with `X-Next-Page`).
- Rate limits: `RateLimit-*` headers on every API answer; `fail_next(status, headers)` makes the next API answer
  fail (a 429 without headers included); `graphql_errors_next(...)` answers the next GraphQL request with 200
  and the given `errors`.
- Webhooks: `issue_hook(...)` / `note_hook(...)` build deliveries as GitLab sends them: `X-Gitlab-Event`,
  `X-Gitlab-Token` and/or Standard Webhooks signatures, `Idempotency-Key` (= `webhook-id`), `X-Gitlab-Event-UUID`.

Not modelled: groups and group-level filters, work items beyond issues, quick actions and notes, the time
estimate, REST time tracking, scopes of personal tokens, GitLab's complexity limits.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
import threading
import time as clock
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import msgspec
from graphql import ExecutionResult, GraphQLError, GraphQLSchema, OperationType, build_schema, execute, parse, validate
from graphql.language import OperationDefinitionNode
from litestar import Litestar, Request, Response, route
from litestar.params import FromPath

from gateway.plugins.gitlab.webhooks import sign
from tests.loopback_server import serve

SCHEMA_FILE = Path(__file__).with_name("spec") / "timelogs.graphql"
NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action"
)
MAX_PAGE = 100
MAX_QUERY_LENGTH = 10_000
ROLES = {"guest": 10, "planner": 15, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
ACCESS_TOKEN_SECONDS = 7200
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(mo|w|d|h|m|s)?", re.IGNORECASE)
_UNIT_SECONDS = {"mo": 4 * 5 * 8 * 3600, "w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60, "s": 1, None: 3600}


def load_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


@dataclass
class User:
    id: int
    username: str
    name: str
    token: str  # personal access token


@dataclass
class Project:
    id: int
    full_path: str
    members: dict[int, str] = field(default_factory=dict)  # user id -> role

    def role(self, user: User | None) -> int:
        return ROLES.get(self.members.get(user.id, ""), 0) if user else 0


@dataclass
class Issuable:
    id: int
    iid: int
    project: Project
    title: str
    merge_request: bool = False
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    description: str = ""
    assignee: User | None = None
    author: User | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def gid(self) -> str:
        return f"gid://gitlab/{'MergeRequest' if self.merge_request else 'Issue'}/{self.id}"

    @property
    def reference(self) -> str:
        return f"{self.project.full_path}{'!' if self.merge_request else '#'}{self.iid}"


@dataclass
class Timelog:
    id: int
    user: User
    issuable: Issuable
    spent_at: datetime
    seconds: int
    summary: str
    created_at: datetime

    @property
    def gid(self) -> str:
        return f"gid://gitlab/Timelog/{self.id}"


@dataclass
class Grant:
    user_id: int
    scopes: str
    access_token: str
    refresh_token: str
    expires: float
    revoked: bool = False
    old_refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class Operation:
    """A GraphQL request as the fake received it (valid or not)."""

    name: str | None
    kind: str
    query: str
    variables: dict[str, Any]


class FakeGitLab:
    def __init__(self) -> None:
        self.base_url = ""
        self.schema = load_schema()
        self.users: dict[int, User] = {}
        self.projects: dict[str, Project] = {}  # lower-cased full path -> project
        self.issuables: dict[int, Issuable] = {}
        self.timelogs: dict[int, Timelog] = {}
        self.ids = itertools.count(1000)
        self.timelog_ids = itertools.count(45)
        self.lock = threading.RLock()
        self.failures: deque[tuple[int, dict[str, str]]] = deque()
        self.graphql_failures: deque[list[dict[str, Any]]] = deque()
        self.operation_failures: dict[str, int] = {}  # operation name -> HTTP status of its next request
        self.violations: list[str] = []
        self.operations: list[Operation] = []
        self.rest_requests: list[tuple[str, str, dict[str, str]]] = []
        # OAuth
        self.client_id = "gitlab-app-" + secrets.token_hex(4)
        self.client_secret = "gloas-" + secrets.token_hex(16)
        self.consenting_user: int | None = None
        self.codes: dict[str, dict[str, Any]] = {}
        self.grants: list[Grant] = []
        self.token_requests: list[dict[str, str]] = []
        self.revocations: list[str] = []
        # Webhooks
        self.webhook_secret = "gitlab-hook-token-" + secrets.token_hex(6)
        self.signing_token = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- Test-side helpers --------------------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[FakeGitLab]:
        with serve(self.app()) as url:
            self.base_url = url
            yield self

    def add_user(self, username: str, name: str | None = None) -> User:
        user = User(next(self.ids), username, name or username.title(), "glpat-" + secrets.token_hex(10))
        self.users[user.id] = user
        return user

    def add_project(self, full_path: str, members: list[tuple[User, str]] | None = None) -> Project:
        project = Project(next(self.ids), full_path, {user.id: role for user, role in members or []})
        self.projects[full_path.lower()] = project
        return project

    def add_issue(
        self, project: Project, iid: int, title: str, *, merge_request: bool = False, labels: list[str] | None = None
    ) -> Issuable:
        issuable = Issuable(next(self.ids), iid, project, title, merge_request=merge_request, labels=labels or [])
        self.issuables[issuable.id] = issuable
        return issuable

    def issuable(self, reference: str) -> Issuable:
        """`group/project#1` or `group/project!1`, any case."""
        for item in self.issuables.values():
            if item.reference.lower() == reference.lower():
                return item
        raise KeyError(reference)

    def add_timelog(self, user: User, reference: str, spent_at: datetime, seconds: int, summary: str = "") -> Timelog:
        """A timelog made in GitLab itself (the UI or a `/spend` quick action)."""
        with self.lock:
            issuable = self.issuable(reference)
            timelog = Timelog(next(self.timelog_ids), user, issuable, spent_at, seconds, summary, self.now())
            self.timelogs[timelog.id] = timelog
            issuable.updated_at = self.now()
            return timelog

    def delete_timelog(self, timelog_id: int | str) -> None:
        with self.lock:
            self.timelogs.pop(int(str(timelog_id).rsplit("/", 1)[-1]))

    def timelogs_of(self, user: User) -> list[Timelog]:
        return sorted((t for t in self.timelogs.values() if t.user.id == user.id), key=lambda t: t.id)

    def total_seconds(self, reference: str) -> int:
        issuable = self.issuable(reference)
        return sum(t.seconds for t in self.timelogs.values() if t.issuable.id == issuable.id)

    def issue_tokens(self, user: User, scopes: str = "api") -> tuple[str, str]:
        """(access token, refresh token) of an OAuth grant the user gave, as if they had consented."""
        grant = Grant(user.id, scopes, "gloat-" + secrets.token_hex(16), "glort-" + secrets.token_hex(16),
                      clock.time() + ACCESS_TOKEN_SECONDS)  # fmt: skip
        self.grants.append(grant)
        return grant.access_token, grant.refresh_token

    def expire_access_tokens(self) -> None:
        for grant in self.grants:
            grant.expires = clock.time() - 1

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.append((status, headers or {}))

    def graphql_errors_next(self, *messages: str) -> None:
        self.graphql_failures.append(
            [{"message": message, "locations": [{"line": 2, "column": 3}]} for message in messages]
        )

    def fail_operation(self, name: str, status: int = 502) -> None:
        """Make the next GraphQL operation called `name` fail with `status` before GitLab acts on it (a worker
        that dies, a proxy that times out)."""
        self.operation_failures[name] = status

    def mutations(self, name: str) -> list[Operation]:
        return [op for op in self.operations if op.kind == "mutation" and op.name == name]

    # --- Webhooks -----------------------------------------------------------------------------------------

    def hook(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        token: str | None = None,
        signing_token: str | None = None,
        timestamp: int | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A delivery as GitLab sends it: with the secret token and/or a Standard Webhooks signature."""
        body = msgspec.json.encode(payload)
        key = idempotency_key or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/18.6.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Instance": self.base_url or "https://gitlab.example.com",
            "X-Gitlab-Webhook-UUID": "3c1a5f2e-0000-4000-8000-000000000001",
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Idempotency-Key": key,
        }
        if token is not None:
            headers["X-Gitlab-Token"] = token
        if signing_token is not None:
            stamp = int(self.now().timestamp()) if timestamp is None else timestamp
            headers |= {
                "webhook-id": key,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(signing_token, key, stamp, body),
            }
        return headers, body

    def issue_payload(self, issuable: Issuable, actor: User, action: str = "update") -> dict[str, Any]:
        project = issuable.project
        kind = "merge_request" if issuable.merge_request else "issue"
        spent = sum(t.seconds for t in self.timelogs.values() if t.issuable.id == issuable.id)
        return {
            "object_kind": kind,
            "event_type": kind,
            "user": {"id": actor.id, "name": actor.name, "username": actor.username, "avatar_url": None},
            "project": {
                "id": project.id,
                "name": project.full_path.rsplit("/", 1)[-1],
                "path_with_namespace": project.full_path,
                "web_url": f"{self.base_url}/{project.full_path}",
            },
            "object_attributes": {
                "id": issuable.id,
                "iid": issuable.iid,
                "title": issuable.title,
                "description": issuable.description,
                "state": issuable.state,
                "action": action,
                "updated_at": issuable.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "total_time_spent": spent,
                "time_change": 0,
                "url": f"{self.base_url}/{issuable.project.full_path}/-/issues/{issuable.iid}",
            },
            "labels": [{"id": n, "title": label} for n, label in enumerate(issuable.labels)],
            "changes": {"updated_at": {"previous": None, "current": issuable.updated_at.isoformat()}},
            "assignees": [
                {"id": issuable.assignee.id, "name": issuable.assignee.name, "username": issuable.assignee.username}
            ]
            if issuable.assignee
            else [],
        }

    # --- The app ------------------------------------------------------------------------------------------

    def app(self) -> Litestar:
        fake = self

        @route("/{path:path}", http_method=["GET", "POST", "PUT", "DELETE"], status_code=200)
        async def everything(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[Any]:
            body = await request.body()
            raw_path = request.scope.get("raw_path", b"").decode().split("?", 1)[0] or path
            with fake.lock:
                return fake.handle(request.method, raw_path, dict(request.query_params), request.headers, body)

        return Litestar(route_handlers=[everything], openapi_config=None, logging_config=None, debug=True)

    def handle(self, method: str, path: str, query: dict[str, Any], headers: Any, body: bytes) -> Response[Any]:
        if path == "/oauth/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/oauth/token" and method == "POST":
            return self._token(headers, body)
        if path == "/oauth/revoke" and method == "POST":
            return self._revoke(body)
        if not path.startswith("/api/"):
            return Response({"message": "404 Not Found"}, status_code=404)
        if self.failures:
            status, extra = self.failures.popleft()
            content: Any = {"message": f"{status} injected"} if status != 429 else "Retry later\n"
            return Response(content, status_code=status, headers=extra)
        token = headers.get("private-token") or headers.get("authorization", "").removeprefix("Bearer ").strip()
        viewer = self._user_for(token) if token else None
        if token and viewer is None:
            if path == "/api/graphql":
                return Response({"errors": [{"message": "Invalid token"}]}, status_code=401)
            return Response({"message": "401 Unauthorized"}, status_code=401)
        limits = {
            "RateLimit-Limit": "2000",
            "RateLimit-Observed": "1",
            "RateLimit-Remaining": "1999",
            "RateLimit-Reset": str(int(clock.time()) + 60),
        }
        if path == "/api/graphql" and method == "POST":
            answer = self._graphql(viewer, body)
        elif path.startswith("/api/v4/") and method == "GET":
            answer = self._rest(path.removeprefix("/api/v4"), query, viewer)
        else:
            answer = Response({"message": "404 Not Found"}, status_code=404)
        answer.headers.update(limits)
        return answer

    # --- OAuth --------------------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, Any]) -> Response[Any]:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return Response({"error": "invalid_request"}, status_code=400)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            # The gateway always uses PKCE; a request without it is a bug worth failing on.
            return Response({"error": "invalid_request", "error_description": "PKCE S256 required"}, status_code=400)
        scopes = str(query.get("scope", ""))
        if not set(scopes.split()) <= {"api", "read_api", "read_user"} or not scopes:
            return Response({"error": "invalid_scope"}, status_code=400)
        if self.consenting_user is None:
            return Response("<html>Sign in to GitLab</html>", media_type="text/html")
        code = secrets.token_hex(16)
        self.codes[code] = {
            "user": self.consenting_user,
            "redirect_uri": query["redirect_uri"],
            "challenge": query["code_challenge"],
            "scopes": scopes,
        }
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return Response(b"", status_code=302, headers={"Location": location})

    def _token(self, headers: Any, body: bytes) -> Response[Any]:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return Response({"error": "invalid_request"}, status_code=400)
        data = dict(parse_qsl(body.decode()))
        self.token_requests.append({k: v for k, v in data.items() if k not in ("client_secret",)})
        if (data.get("client_id"), data.get("client_secret")) != (self.client_id, self.client_secret):
            return Response({"error": "invalid_client", "error_description": "Client authentication failed"},
                            status_code=401)  # fmt: skip
        invalid = Response(
            {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid, expired, revoked, does not match "
                "the redirection URI used in the authorization request, or was issued to another client.",
            },
            status_code=400,
        )
        if data.get("grant_type") == "authorization_code":
            held = self.codes.pop(data.get("code", ""), None)
            if held is None or held["redirect_uri"] != data.get("redirect_uri"):
                return invalid
            verifier = data.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != held["challenge"]:
                return invalid
            self.issue_tokens(self.users[held["user"]], held["scopes"])
            grant = self.grants[-1]
        elif data.get("grant_type") == "refresh_token":
            token = data.get("refresh_token", "")
            held_grant = next((g for g in self.grants if g.refresh_token == token and not g.revoked), None)
            if held_grant is None:
                return invalid  # unknown, revoked, or an old refresh token already rotated away
            grant = held_grant
            # Every refresh rotates both tokens: the old access and refresh tokens stop working at once.
            grant.old_refresh_tokens.add(grant.refresh_token)
            grant.access_token = "gloat-" + secrets.token_hex(16)
            grant.refresh_token = "glort-" + secrets.token_hex(16)
            grant.expires = clock.time() + ACCESS_TOKEN_SECONDS
        else:
            return Response({"error": "unsupported_grant_type"}, status_code=400)
        return Response(
            {
                "access_token": grant.access_token,
                "token_type": "Bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "refresh_token": grant.refresh_token,
                "scope": grant.scopes,
                "created_at": int(clock.time()),
            }
        )

    def _revoke(self, body: bytes) -> Response[Any]:
        data = dict(parse_qsl(body.decode()))
        token = data.get("token", "")
        self.revocations.append(data.get("token_type_hint", ""))
        for grant in self.grants:
            if token in (grant.access_token, grant.refresh_token):
                grant.revoked = True
        return Response({})  # RFC 7009: 200 whatever the token was

    def _user_for(self, token: str) -> User | None:
        for user in self.users.values():
            if token == user.token:
                return user
        for grant in self.grants:
            if grant.access_token == token and not grant.revoked and grant.expires > clock.time():
                return self.users[grant.user_id]
        return None

    # --- GraphQL ------------------------------------------------------------------------------------------

    def _graphql(self, viewer: User | None, body: bytes) -> Response[Any]:
        try:
            request = msgspec.json.decode(body)
            source = str(request["query"])
            variables = request.get("variables") or {}
        except (msgspec.DecodeError, KeyError, TypeError):
            self.violations.append(f"a GraphQL request that is not JSON with a query: {body[:200]!r}")
            return Response({"errors": [{"message": "No query string was present"}]}, status_code=400)
        if len(source) > MAX_QUERY_LENGTH:
            self.violations.append("a GraphQL query over 10,000 characters")
            return Response({"errors": [{"message": "Query too large"}]})
        try:
            document = parse(source)
        except GraphQLError as exc:
            self.violations.append(f"GraphQL syntax: {exc.message}\n{source}")
            return Response({"errors": [exc.formatted]})
        operation = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
        kind = "mutation" if operation and operation.operation is OperationType.MUTATION else "query"
        name = operation.name.value if operation and operation.name else None
        self.operations.append(Operation(name, kind, source, dict(variables)))
        problems = validate(self.schema, document)
        if problems:
            self.violations += [f"GraphQL request breaks GitLab's schema: {p.message}\n{source}" for p in problems]
            return Response({"errors": [p.formatted for p in problems]})
        if name in self.operation_failures:
            return Response({"message": "502 Bad Gateway"}, status_code=self.operation_failures.pop(name))
        if self.graphql_failures:
            return Response({"errors": self.graphql_failures.popleft()})
        result = execute(
            self.schema, document, root_value=self._root(viewer), variable_values=variables,
            context_value={"viewer": viewer},
        )  # fmt: skip
        if not isinstance(result, ExecutionResult):  # pragma: no cover - the resolvers are synchronous
            raise TypeError("unexpected asynchronous GraphQL execution")
        answer = result.formatted
        for error in result.errors or []:
            if error.message != NOT_AVAILABLE and not error.message.startswith("Provide"):
                self.violations.append(f"GraphQL execution failed: {error.message}\n{source}")
        return Response(answer)

    def _root(self, viewer: User | None) -> dict[str, Any]:
        def project(_info: Any, fullPath: str) -> dict[str, Any] | None:
            found = self.projects.get(str(fullPath).lower())
            return self._project(found, viewer) if found and found.role(viewer) else None

        def by_gid(kind: str) -> Callable[..., Any]:
            def resolve(_info: Any, id: str) -> dict[str, Any] | None:
                item = self._by_gid(id, kind)
                return self._issuable(item, viewer) if item and item.project.role(viewer) else None

            return resolve

        def user(_info: Any, id: str | None = None, username: str | None = None) -> dict[str, Any] | None:
            for candidate in self.users.values():
                if f"gid://gitlab/User/{candidate.id}" == id or candidate.username == username:
                    return self._user(candidate, viewer)
            return None

        return {
            "currentUser": lambda _info: self._user(viewer, viewer) if viewer else None,
            "project": project,
            "issue": by_gid("Issue"),
            "mergeRequest": by_gid("MergeRequest"),
            "user": user,
            "timelogs": lambda _info, **args: self._timelogs_query(viewer, args, require_filter=True),
            "timelogCreate": lambda _info, input: self._create(viewer, input),
            "timelogDelete": lambda _info, input: self._delete(viewer, input),
        }

    def _by_gid(self, gid: str, kind: str | None = None) -> Issuable | None:
        found = re.fullmatch(r"gid://gitlab/(Issue|MergeRequest|WorkItem)/(\d+)", str(gid))
        if found is None:
            raise GraphQLError(f"{gid} is not a valid Global ID")
        item = self.issuables.get(int(found[2]))
        if item is None or (kind is not None and item.merge_request != (kind == "MergeRequest")):
            return None
        if found[1] != "WorkItem" and item.merge_request != (found[1] == "MergeRequest"):
            return None
        return item

    def _create(self, viewer: User | None, values: dict[str, Any]) -> dict[str, Any]:
        if viewer is None:
            raise GraphQLError(NOT_AVAILABLE)
        item = self._by_gid(values["issuableId"])
        if item is None or not item.project.role(viewer):
            raise GraphQLError(NOT_AVAILABLE)
        kind = "MergeRequest" if item.merge_request else "Issue"
        if item.project.role(viewer) < ROLES["planner"]:
            return _failed(f"{kind} doesn't exist or you don't have permission to add timelog to it.")
        seconds = parse_duration(str(values["timeSpent"]))
        if seconds is None:
            return _failed("Time spent must be formatted correctly. For example: 1h 30m.")
        if seconds == 0:
            return _failed("Time spent can't be zero.")
        summary = str(values["summary"])
        if len(summary) > 255:
            return _failed("Summary is too long (maximum is 255 characters)")
        spent_at = self.now()
        if values.get("spentAt") is not None:
            try:
                spent_at = _parse_time(values["spentAt"])
            except ValueError:
                raise GraphQLError(f"Time: {values['spentAt']!r} is not a valid ISO 8601 time") from None
            if spent_at > self.now():
                return _failed("Spent at can't be a future date and time.")
        timelog = Timelog(next(self.timelog_ids), viewer, item, spent_at, seconds, summary, self.now())
        self.timelogs[timelog.id] = timelog
        item.updated_at = self.now()
        return {"timelog": self._timelog(timelog, viewer), "errors": [], "clientMutationId": None}

    def _delete(self, viewer: User | None, values: dict[str, Any]) -> dict[str, Any]:
        found = re.fullmatch(r"gid://gitlab/Timelog/(\d+)", str(values["id"]))
        if found is None:
            raise GraphQLError(f"{values['id']} is not a valid Global ID")
        timelog = self.timelogs.get(int(found[1]))
        if timelog is None or viewer is None:
            raise GraphQLError(NOT_AVAILABLE)
        role = timelog.issuable.project.role(viewer)
        if timelog.user.id != viewer.id and role < ROLES["maintainer"]:
            raise GraphQLError(NOT_AVAILABLE)  # someone else's timelog
        answer = self._timelog(timelog, viewer)
        del self.timelogs[timelog.id]
        timelog.issuable.updated_at = self.now()
        return {"timelog": answer, "errors": [], "clientMutationId": None}

    def _timelogs_query(
        self,
        viewer: User | None,
        args: dict[str, Any],
        *,
        require_filter: bool,
        within: Callable[[Timelog], bool] | None = None,
    ) -> dict[str, Any]:
        filters = ("startDate", "endDate", "startTime", "endTime", "projectId", "groupId", "username")
        if require_filter and not any(args.get(name) is not None for name in filters):
            raise GraphQLError(
                "Provide at least one argument: startDate, endDate, startTime, endTime, projectId, groupId or username"
            )
        if args.get("startDate") is not None and args.get("startTime") is not None:
            raise GraphQLError("Provide either a start date or time, but not both")
        if args.get("endDate") is not None and args.get("endTime") is not None:
            raise GraphQLError("Provide either an end date or time, but not both")
        start = end = None
        if args.get("startTime") is not None:
            start = _parse_time(args["startTime"])
        elif args.get("startDate") is not None:
            start = datetime.combine(_parse_time(args["startDate"]).date(), time(0), tzinfo=UTC)
        if args.get("endTime") is not None:
            end = _parse_time(args["endTime"])
        elif args.get("endDate") is not None:
            end = datetime.combine(_parse_time(args["endDate"]).date(), time.max, tzinfo=UTC)
        if start and end and start > end:
            raise GraphQLError("Start argument must be before End argument")
        items = [
            t
            for t in self.timelogs.values()
            if t.issuable.project.role(viewer)
            and (within is None or within(t))
            and (args.get("username") is None or t.user.username == args["username"])
            and (start is None or t.spent_at >= start)
            and (end is None or t.spent_at <= end)
        ]
        items.sort(key=lambda t: (t.spent_at, t.id))
        return self._connection([self._timelog(t, viewer) for t in items], args, total=sum(t.seconds for t in items))

    def _connection(self, nodes: list[dict[str, Any]], args: dict[str, Any], *, total: int = 0) -> dict[str, Any]:
        offset = 0
        if args.get("after"):
            try:
                offset = int(base64.b64decode(args["after"]).decode().removeprefix("offset:")) + 1
            except (ValueError, UnicodeDecodeError):
                raise GraphQLError("Please provide a valid cursor") from None
        first = args.get("first")
        size = MAX_PAGE if first is None else max(0, min(int(first), MAX_PAGE))
        page = nodes[offset : offset + size]
        cursors = [base64.b64encode(f"offset:{offset + n}".encode()).decode() for n in range(len(page))]
        return {
            "count": len(nodes),
            "nodes": page,
            "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, page, strict=True)],
            "pageInfo": {
                "hasNextPage": offset + size < len(nodes),
                "hasPreviousPage": offset > 0,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
            "totalSpentTime": str(total),
        }

    # --- Rendering for GraphQL ----------------------------------------------------------------------------

    def _user(self, user: User, viewer: User | None) -> dict[str, Any]:
        return {
            "id": f"gid://gitlab/User/{user.id}",
            "username": user.username,
            "name": user.name,
            "active": True,
            "avatarUrl": None,
            "bot": False,
            "publicEmail": None,
            "webUrl": f"{self.base_url}/{user.username}",
            "timelogs": lambda _info, **args: self._timelogs_query(
                viewer, args, require_filter=False, within=lambda t: t.user.id == user.id
            ),
        }

    def _project(self, project: Project, viewer: User | None) -> dict[str, Any]:
        def one(merge_request: bool) -> Callable[..., Any]:
            def resolve(_info: Any, iid: str | None = None) -> dict[str, Any] | None:
                for item in self.issuables.values():
                    if item.project is project and item.merge_request == merge_request and str(item.iid) == iid:
                        return self._issuable(item, viewer)
                return None

            return resolve

        def issues(_info: Any, **args: Any) -> dict[str, Any]:
            items = [i for i in self.issuables.values() if i.project is project and not i.merge_request]
            if args.get("iids") is not None:
                items = [i for i in items if str(i.iid) in args["iids"]]
            if args.get("search"):
                items = [i for i in items if str(args["search"]).lower() in (i.title + i.description).lower()]
            return self._connection([self._issuable(i, viewer) for i in items], args)

        name = project.full_path.rsplit("/", 1)[-1]
        return {
            "id": f"gid://gitlab/Project/{project.id}",
            "fullPath": project.full_path,
            "name": name,
            "nameWithNamespace": project.full_path.replace("/", " / "),
            "path": name,
            "issue": one(False),
            "mergeRequest": one(True),
            "issues": issues,
            "timelogs": lambda _info, **args: self._timelogs_query(
                viewer, args, require_filter=False, within=lambda t: t.issuable.project is project
            ),
        }

    def _issuable(self, item: Issuable, viewer: User | None) -> dict[str, Any]:
        spent = sum(t.seconds for t in self.timelogs.values() if t.issuable.id == item.id)
        web_url = self._web_url(item)
        return {
            "id": item.gid,
            "iid": str(item.iid),
            "title": item.title,
            "state": item.state,
            "projectId": item.project.id,
            "webUrl": web_url,
            "webPath": web_url.removeprefix(self.base_url),
            "createdAt": item.created_at.isoformat(),
            "updatedAt": item.updated_at.isoformat(),
            "closedAt": None,
            "confidential": False,
            "description": item.description,
            "timeEstimate": 0,
            "totalTimeSpent": spent,
            "humanTimeEstimate": None,
            "humanTotalTimeSpent": None,
            "author": self._user(item.author, viewer) if item.author else None,
            "reference": lambda _info, full=False: (
                item.reference if full else f"{'!' if item.merge_request else '#'}{item.iid}"
            ),
            "timelogs": lambda _info, **args: self._timelogs_query(
                viewer, args, require_filter=False, within=lambda t: t.issuable.id == item.id
            ),
        }

    def _timelog(self, timelog: Timelog, viewer: User | None) -> dict[str, Any]:
        issuable = timelog.issuable
        return {
            "id": timelog.gid,
            "spentAt": timelog.spent_at.astimezone(UTC).isoformat(),
            "timeSpent": timelog.seconds,
            "summary": timelog.summary,
            "user": self._user(timelog.user, viewer),
            "project": self._project(issuable.project, viewer),
            "issue": None if issuable.merge_request else self._issuable(issuable, viewer),
            "mergeRequest": self._issuable(issuable, viewer) if issuable.merge_request else None,
            "note": None,
            "userPermissions": {
                "adminTimelog": viewer is not None
                and (timelog.user.id == viewer.id or issuable.project.role(viewer) >= ROLES["maintainer"])
            },
        }

    # --- REST ---------------------------------------------------------------------------------------------

    def _rest(self, path: str, query: dict[str, Any], viewer: User | None) -> Response[Any]:
        self.rest_requests.append(("GET", path, dict(query)))
        if path == "/user":
            if viewer is None:
                return Response({"message": "401 Unauthorized"}, status_code=401)
            return Response({"id": viewer.id, "username": viewer.username, "name": viewer.name, "state": "active"})
        one = re.fullmatch(r"/projects/([^/]+)/(issues|merge_requests)/(\d+)", path)
        if one:
            project = self.projects.get(unquote(one[1]).lower())
            if project is None or not project.role(viewer):
                return Response({"message": "404 Project Not Found"}, status_code=404)
            for item in self.issuables.values():
                if (
                    item.project is project
                    and item.merge_request == (one[2] == "merge_requests")
                    and item.iid == int(one[3])
                ):
                    return Response(self._rest_issuable(item))
            return Response({"message": f"404 {'Merge Request' if one[2] == 'merge_requests' else 'Issue'} Not Found"},
                            status_code=404)  # fmt: skip
        listing = re.fullmatch(r"(?:/projects/([^/]+))?/issues", path)
        if listing:
            if listing[1] is not None:
                project = self.projects.get(unquote(listing[1]).lower())
                if project is None or not project.role(viewer):
                    return Response({"message": "404 Project Not Found"}, status_code=404)
                items = [i for i in self.issuables.values() if i.project is project and not i.merge_request]
            else:
                if query.get("scope") != "all":
                    return Response([])  # created_by_me: nothing in the fake
                items = [i for i in self.issuables.values() if not i.merge_request and i.project.role(viewer)]
            return self._list(items, query)
        return Response({"message": "404 Not Found"}, status_code=404)

    def _list(self, items: list[Issuable], query: dict[str, Any]) -> Response[Any]:
        if query.get("search"):
            term = str(query["search"]).lower()
            items = [i for i in items if term in (i.title + " " + i.description).lower()]
        if query.get("updated_after"):
            since = _parse_time(query["updated_after"])
            items = [i for i in items if i.updated_at >= since]
        state = query.get("state", "all")
        if state != "all":
            items = [i for i in items if i.state == state]
        items.sort(key=lambda i: i.updated_at, reverse=query.get("sort", "desc") == "desc")
        per_page = min(int(query.get("per_page", 20)), MAX_PAGE)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items))}
        headers["X-Next-Page"] = str(page + 1) if page * per_page < len(items) else ""
        return Response([self._rest_issuable(i) for i in chunk], headers=headers)

    def _web_url(self, item: Issuable) -> str:
        kind = "merge_requests" if item.merge_request else "issues"
        return f"{self.base_url}/{item.project.full_path}/-/{kind}/{item.iid}"

    def _rest_issuable(self, item: Issuable) -> dict[str, Any]:
        spent = sum(t.seconds for t in self.timelogs.values() if t.issuable.id == item.id)
        sigil = "!" if item.merge_request else "#"
        assignee = (
            {"id": item.assignee.id, "name": item.assignee.name, "username": item.assignee.username}
            if item.assignee
            else None
        )
        return {
            "id": item.id,
            "iid": item.iid,
            "project_id": item.project.id,
            "title": item.title,
            "description": item.description,
            "state": item.state,
            "created_at": item.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": item.updated_at.isoformat().replace("+00:00", "Z"),
            "closed_at": None,
            "labels": list(item.labels),
            "assignee": assignee,
            "assignees": [assignee] if assignee else [],
            "web_url": self._web_url(item),
            "references": {
                "short": f"{sigil}{item.iid}",
                "relative": f"{sigil}{item.iid}",
                "full": item.reference,
            },
            "time_stats": {"time_estimate": 0, "total_time_spent": spent},
        }


def _failed(message: str) -> dict[str, Any]:
    return {"timelog": None, "errors": [message], "clientMutationId": None}


def parse_duration(text: str) -> int | None:
    """GitLab's duration syntax (`1h 30m`, `90m`, `1.5`): seconds, or None for text it cannot read."""
    text = text.strip()
    if not text:
        return None
    position, seconds = 0, 0.0
    for part in _DURATION_PART.finditer(text):
        if text[position : part.start()].strip():
            return None
        unit = part[2].lower() if part[2] else None
        seconds += float(part[1]) * _UNIT_SECONDS[unit]
        position = part.end()
    if text[position:].strip() or position == 0:
        return None
    return round(seconds)


def _parse_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time without an offset")
    return moment.astimezone(UTC)


def whole_seconds_ago(seconds: int) -> datetime:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).replace(microsecond=0)
