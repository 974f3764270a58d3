"""A fake Jira on loopback, Cloud (REST v3) or Data Center (REST v2), following Atlassian's documented contract.

What it models:
- REST: `/myself`, `/issue/{key}`, an issue's worklogs (add 201 / change 200 / delete 204 / paged list with
  `startedAfter`, `adjustEstimate`, `expand=properties`), `/worklog/updated` and `/worklog/deleted` (oldest
  first, `feed_page_size` a page, `nextPage`/`lastPage`/`until`, the newest minute left out), `POST
  /worklog/list` (≤ 1000 ids), search (`/search/jql` with `nextPageToken`/`isLast` on Cloud, where `/search`
  answers 410; `/search` with `startAt`/`total` on Data Center; JQL `id in (…)`, `key in (…)`,
  `summary ~ "text*" ORDER BY updated DESC` (the text search read as: a word of the summary starts with each word)
  and `worklogAuthor = currentUser() AND updated >= -Nm [ORDER BY updated DESC]`; up to 1000 issues a page when
  only ids or keys are asked for, else 100).
- `started` accepted only as `yyyy-MM-dd'T'HH:mm:ss.SSS±hhmm` (anything else: 400), stored as an instant and
  written back in the reading user's time zone, as Jira does; comments as ADF on v3 and strings on v2.
- Auth: Cloud API tokens (Basic e-mail:token) on the site; OAuth 2.0 3LO (`/authorize`, `/oauth/token` with a
  JSON body, `accessible-resources`, API calls under `/ex/jira/{cloudId}`), expiring access tokens, rotating
  refresh tokens whose reuse revokes the grant; Data Center PATs (Bearer only) and OAuth 1.0a RSA-SHA1 (request
  token, authorise, access token under `/plugins/servlet/oauth/`, every call's signature checked).
- Real Jira where it hurts (docs/trackers.md names the source of each): Data Center without worklog properties
  or `expand`, refusing unknown body fields with 400 "Unrecognized field" and JQL naming an unknown issue with
  400; a search that lags behind writes (`add_issue(indexed=False)`, `lag_search()` until `index()`,
  `reconcileIssues` on Cloud); watchers mailed
  (`notifications`) unless Cloud is sent `notifyUsers=false`; worklogs moved between issues (`move_worklog`);
  scoped API tokens refused on the site and accepted under `/ex/jira/{cloudId}`, `/_edge/tenant_info`.
- Failures: `fail_next(status, headers)` for the next REST call; 429 `jira-per-issue-on-write` when one issue
  takes more than `issue_write_limit` writes in 2 seconds; Jira's error bodies (`errorMessages`, `errors`).
- Cost: REST calls and worklog bodies answered, per user (`calls`, `bodies`): what Cloud's quota counts.
- Webhooks: `webhook(...)` builds a delivery signed like Jira's (`X-Hub-Signature`, a stable
  `X-Atlassian-Webhook-Identifier`).
Every REST request and answer is checked against Atlassian's OpenAPI description (`contract.py`); a request
that breaks it gets Jira's 400, an answer that breaks it is recorded in `violations` (the tests fail on any).

Not modelled: permissions and issue security, worklog visibility, JQL beyond the forms above, changelogs,
`adjustEstimate=new|manual` arithmetic, time tracking configuration (a day is 8 hours), webhooks registered
through the REST API, Jira's own rate-limit budgets other than the per-issue one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import secrets
import threading
import time as clock
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import msgspec
from authlib.oauth1.rfc5849.signature import verify_rsa_sha1
from authlib.oauth1.rfc5849.wrapper import OAuth1Request
from litestar import Litestar, Request, Response, route
from litestar.params import FromPath

from tests.loopback_server import serve
from tests.plugins.jira.contract import ContractViolation, check_request, check_response, spec

STARTED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
WORKLOG_PATH = re.compile(r"^/issue/(?P<issue>[^/]+)/worklog(?:/(?P<id>[^/]+))?$")
FEED_GAP_MS = 60_000  # the change feeds leave out the newest minute
# The fields of Data Center's WorklogJsonBean (jira.js src/server/models/worklog.ts): anything else in a body is
# refused by Jackson with 400 "Unrecognized field", and there is no `properties` to expand.
DC_WORKLOG_FIELDS = frozenset({
    "author", "comment", "created", "id", "issueId", "self", "started", "timeSpent", "timeSpentSeconds",
    "updateAuthor", "updated", "visibility",
})  # fmt: skip


@dataclass
class JiraUser:
    id: str  # accountId on Cloud, key on Data Center
    name: str  # the DC username
    display_name: str
    email: str
    timezone: str
    token: str  # Cloud API token or DC personal access token
    # A scoped Cloud API token (service accounts get only these): refused on the site, accepted (Basic) through
    # Atlassian's gateway at /ex/jira/{cloudId} ("Manage API tokens for your Atlassian account", Atlassian support).
    scoped: bool = False


@dataclass
class Issue:
    id: str
    key: str
    summary: str
    status: str = "To Do"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))
    time_spent: int = 0


@dataclass
class Worklog:
    id: str
    issue_id: str
    author: str
    started: datetime
    seconds: int
    comment: Any
    properties: list[dict[str, Any]]
    created: datetime
    updated: datetime


@dataclass
class Grant:
    user: str
    refresh_token: str
    used_refresh_tokens: set[str] = field(default_factory=set)
    revoked: bool = False


class FakeJira:
    def __init__(self, flavour: str = "cloud", *, feed_page_size: int = 1000) -> None:
        self.flavour = flavour
        self.version = 3 if flavour == "cloud" else 2
        self.feed_page_size = feed_page_size
        self.base_url = ""
        self.cloud_id = "f2b1c6a8-0000-4000-8000-000000000001"
        # The site's address as accessible-resources names it (the fake's own address unless set).
        self.site_url: str | None = None
        # Other sites the grant reaches (accessible-resources lists every site the user consented to).
        self.other_sites: list[dict[str, Any]] = []
        self.users: dict[str, JiraUser] = {}
        self.issues: dict[str, Issue] = {}
        # Issues the search index has not caught up with: the search is not read-after-write consistent.
        self.unindexed: set[str] = set()
        # The search's view of each issue while it lags (`lag_search`): (updated, worklog authors) by issue id.
        self.index_snapshot: dict[str, tuple[datetime, frozenset[str]]] | None = None
        self.worklogs: dict[str, Worklog] = {}
        self.deleted: list[tuple[str, int]] = []  # (worklog id, deletion time ms)
        self.ids = itertools.count(10000)
        self.failures: deque[tuple[int, dict[str, str]]] = deque()
        self.violations: list[str] = []
        # E-mails to the issue's watchers: (event, issue key). Cloud sends them unless `notifyUsers=false`; Data
        # Center has no such parameter on worklogs (jira.js src/server) and follows the notification scheme.
        self.notifications: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str, dict[str, Any], Any]] = []
        # REST calls each user made, and the worklog bodies Jira sent each (what costs against Cloud's quota).
        self.calls: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()
        self.issue_write_limit = 20
        self.issue_writes: dict[str, deque[float]] = defaultdict(deque)
        self.webhook_secret = "jira-webhook-secret"
        # OAuth 2.0 (Cloud)
        self.client_id = "gateway-3lo-app"
        self.client_secret = "gateway-3lo-secret"
        self.access_token_lifetime = 3600
        self.consenting_user: str | None = None
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (user, redirect_uri)
        self.access_tokens: dict[str, tuple[Grant, float]] = {}
        self.grants: list[Grant] = []
        self.token_requests: list[dict[str, Any]] = []
        # OAuth 1.0a (Data Center)
        self.consumer_key = "timetracker-gateway"
        self.public_key = ""
        self.request_tokens: dict[str, dict[str, str | None]] = {}
        self.oauth1_tokens: dict[str, str] = {}  # access token -> user
        self.lock = threading.Lock()

    # --- Test-side helpers --------------------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[FakeJira]:
        # Reading Atlassian's description takes seconds on a busy machine: before the first request, not in it.
        spec()
        with serve(self.app()) as url:
            self.base_url = url
            yield self

    def add_user(self, name: str, timezone: str = "Europe/Berlin") -> JiraUser:
        ident = (
            f"5b10ac8d82e05b22cc7d4{len(self.users):03d}"
            if self.flavour == "cloud"
            else f"JIRAUSER{10100 + len(self.users)}"
        )
        user = JiraUser(ident, name, name.title(), f"{name}@example.com", timezone, secrets.token_hex(12))
        self.users[ident] = user
        return user

    def add_issue(self, key: str, summary: str = "An issue", *, indexed: bool = True) -> Issue:
        """An issue; `indexed=False` leaves it out of searches until `index()` (the search lags behind writes)."""
        issue = Issue(id=str(next(self.ids)), key=key, summary=summary)
        self.issues[key] = issue
        if not indexed:
            self.unindexed.add(issue.id)
        return issue

    def index(self) -> None:
        self.unindexed.clear()
        self.index_snapshot = None

    def lag_search(self) -> None:
        """From now on the search sees every issue as it is now (its `updated`, who logged work on it), until
        `index()`: changes made meanwhile are not searchable yet, though reads show them."""
        self.index_snapshot = {
            issue.id: (issue.updated, frozenset(w.author for w in self.worklogs.values() if w.issue_id == issue.id))
            for issue in self.issues.values()
        }

    def add_worklog(
        self, user: JiraUser, key: str, started: datetime, minutes: int, comment: str, *, age: timedelta | None = None
    ) -> Worklog:
        """A worklog made in Jira itself; `age` back-dates its last change (the feeds hide the newest minute)."""
        now = self._distinct(datetime.now(UTC) - (timedelta(minutes=5) if age is None else age))
        issue = self.issues[key]
        body: Any = _adf(comment) if self.version == 3 else comment
        worklog = Worklog(str(next(self.ids)), issue.id, user.id, started, minutes * 60, body, [], now, now)
        self.worklogs[worklog.id] = worklog
        issue.time_spent += worklog.seconds
        _touch(issue, now)
        return worklog

    def edit_worklog(self, worklog_id: str, minutes: int, *, age: timedelta | None = None) -> None:
        """Change a worklog's time in Jira itself, `age` ago (5 minutes: past the feeds' hidden minute)."""
        worklog = self.worklogs[worklog_id]
        self.issues_by_id()[worklog.issue_id].time_spent += minutes * 60 - worklog.seconds
        worklog.seconds = minutes * 60
        worklog.updated = self._distinct(datetime.now(UTC) - (timedelta(minutes=5) if age is None else age))
        _touch(self.issues_by_id()[worklog.issue_id], worklog.updated)

    def move_issue(self, key: str, new_key: str) -> Issue:
        """Move an issue to another project in Jira itself: its key changes, its id and worklogs stay."""
        issue = self.issues.pop(key)
        issue.key = new_key
        issue.updated = datetime.now(UTC)
        self.issues[new_key] = issue
        return issue

    def move_worklog(self, worklog_id: str, key: str, *, age: timedelta | None = None) -> None:
        """Move a worklog to another issue in Jira itself, as Cloud's "move worklogs" does (its id stays)."""
        worklog = self.worklogs[worklog_id]
        issues = self.issues_by_id()
        issues[worklog.issue_id].time_spent -= worklog.seconds
        worklog.issue_id = self.issues[key].id
        self.issues[key].time_spent += worklog.seconds
        worklog.updated = self._distinct(datetime.now(UTC) - (timedelta(minutes=5) if age is None else age))
        _touch(issues[worklog.issue_id], worklog.updated)
        _touch(self.issues[key], worklog.updated)

    def _distinct(self, moment: datetime) -> datetime:
        # Changes made in one burst get distinct milliseconds, as real ones practically do.
        self.stamp = max(getattr(self, "stamp", 0) + 1, _ms(moment))
        return datetime.fromtimestamp(self.stamp / 1000, UTC)

    def delete_worklog(self, worklog_id: str, *, age: timedelta | None = None) -> None:
        worklog = self.worklogs.pop(worklog_id)
        self.issues_by_id()[worklog.issue_id].time_spent -= worklog.seconds
        when = datetime.now(UTC) - (timedelta(minutes=5) if age is None else age)
        self.deleted.append((worklog_id, _ms(when)))
        _touch(self.issues_by_id()[worklog.issue_id], when)

    def age_everything(self, by: timedelta = timedelta(minutes=5)) -> None:
        """Move every change back in time, as if the newest minute had passed."""
        for worklog in self.worklogs.values():
            worklog.updated -= by
            worklog.created -= by
        for issue in self.issues.values():
            issue.updated -= by
        self.deleted = [(ident, when - int(by.total_seconds() * 1000)) for ident, when in self.deleted]

    def issue_oauth_tokens(self, user: JiraUser) -> tuple[str, str]:
        """(access token, refresh token) of a 3LO grant the user has given, as if they had consented."""
        grant = Grant(user=user.id, refresh_token=secrets.token_hex(16))
        self.grants.append(grant)
        access = secrets.token_hex(16)
        self.access_tokens[access] = (grant, clock.time() + self.access_token_lifetime)
        return access, grant.refresh_token

    def issue_oauth1_token(self, user: JiraUser) -> str:
        token = secrets.token_hex(12)
        self.oauth1_tokens[token] = user.id
        return token

    def marker_of(self, worklog: Worklog) -> str | None:
        """The gateway's marker on a worklog, wherever the connector put it (a property, or the comment's tag)."""
        for prop in worklog.properties:
            if prop.get("key") == "timetracker" and isinstance(prop.get("value"), dict):
                return str(prop["value"].get("entry"))
        text = worklog.comment if isinstance(worklog.comment, str) else _adf_text(worklog.comment or {})
        found = re.search(r"\[tt:([^\]\s]+)\]\s*$", text)
        return found.group(1) if found else None

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.append((status, headers or {}))

    def issues_by_id(self) -> dict[str, Issue]:
        return {issue.id: issue for issue in self.issues.values()}

    def webhook(
        self, event: str, payload: dict[str, Any], *, secret: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        body = msgspec.json.encode({"timestamp": _ms(datetime.now(UTC)), "webhookEvent": event, **payload})
        signature = hmac.new((secret or self.webhook_secret).encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": f"sha256={signature}",
            "X-Atlassian-Webhook-Identifier": secrets.token_hex(8),
            "X-Atlassian-Webhook-Retry": "0",
        }
        return headers, body

    def issue_webhook(self, key: str, event: str = "jira:issue_updated") -> tuple[dict[str, str], bytes]:
        issue = self.issues[key]
        return self.webhook(event, {"issue": self._issue_json(issue, None, "summary,status,updated")})

    def worklog_webhook(self, worklog: Worklog, event: str = "worklog_updated") -> tuple[dict[str, str], bytes]:
        return self.webhook(event, {"worklog": self._worklog_json(worklog, None, 2, expand=False)})

    # --- The app ------------------------------------------------------------------------------------------

    def app(self) -> Litestar:
        fake = self

        @route("/{path:path}", http_method=["GET", "POST", "PUT", "DELETE"])
        async def everything(request: Request[Any, Any, Any], path: FromPath[str]) -> Response[Any]:
            body = await request.body()
            with fake.lock:
                return fake.handle(request.method, path, dict(request.query_params), request.headers, body, request)

        return Litestar(route_handlers=[everything], openapi_config=None, logging_config=None, debug=True)

    def handle(
        self, method: str, path: str, query: dict[str, Any], headers: Any, body: bytes, request: Request[Any, Any, Any]
    ) -> Response[Any]:
        if path.startswith("/plugins/servlet/oauth/"):
            return self._oauth1(method, path.rsplit("/", 1)[1], query, headers, body, str(request.url))
        if path in ("/authorize", "/oauth/token", "/oauth/token/accessible-resources"):
            return self._oauth2(path, query, headers, body)
        if path == "/_edge/tenant_info" and self.flavour == "cloud":
            # Every Cloud site names its cloud id here, without authentication.
            return Response({"cloudId": self.cloud_id})
        found = re.match(r"^(?:/ex/jira/(?P<cloud>[^/]+))?/rest/api/(?P<version>\d)(?P<rest>/.*)$", path)
        if found is None or int(found["version"]) != self.version:
            return self._error(404, "no such resource")
        content_type = headers.get("content-type", "application/json").split(";")[0]
        parsed = _json(body)
        self.requests.append((method, found["rest"], query, parsed))
        if self.failures:
            status, extra = self.failures.popleft()
            return self._error(status, f"injected failure {status}", headers=extra)
        user = self._authenticate(found["cloud"], headers, method, str(request.url), body)
        if user is None:
            return Response(b"", status_code=401, headers={"WWW-Authenticate": 'Bearer realm="jira"'})
        try:
            check_request(method, path, query, body if body else None, content_type)
        except ContractViolation as exc:
            return self._error(400, str(exc))
        self.calls[user.id] += 1
        response = self._rest(method, found["rest"], query, parsed, user)
        raw = response.content if isinstance(response.content, bytes) else msgspec.json.encode(response.content)
        status = response.status_code or 200
        if status < 300 or status == 400:
            try:
                check_response(method, path, query, status, raw, "application/json")
            except ContractViolation as exc:
                self.violations.append(str(exc))
        return Response(raw, status_code=status, media_type="application/json", headers=response.headers)

    # --- REST ---------------------------------------------------------------------------------------------

    def _rest(self, method: str, rest: str, query: dict[str, Any], body: Any, user: JiraUser) -> Response[Any]:
        if rest == "/myself" and method == "GET":
            return Response(self._user_json(user, full=True))
        if rest in ("/worklog/updated", "/worklog/deleted") and method == "GET":
            return self._feed(rest.rsplit("/", 1)[1], query)
        if rest == "/worklog/list" and method == "POST":
            ids = [str(i) for i in (body or {}).get("ids", [])]
            if len(ids) > 1000:
                return self._error(400, "The number of worklog IDs must be less than or equal to 1000.")
            items = [self.worklogs[i] for i in ids if i in self.worklogs]
            return Response([self._worklog_json(w, user, self.version, expand=_expands(query)) for w in items])
        if rest in ("/search", "/search/jql") and method == "GET":
            return self._search(rest, query, user)
        issue_match = re.match(r"^/issue/([^/]+)$", rest)
        if issue_match and method == "GET":
            issue = self._issue(issue_match[1])
            if issue is None:
                return self._error(404, "Issue does not exist or you do not have permission to see it.")
            return Response(self._issue_json(issue, user, query.get("fields")))
        worklog_match = WORKLOG_PATH.match(rest)
        if worklog_match:
            return self._worklog_call(method, worklog_match["issue"], worklog_match["id"], query, body, user)
        return self._error(404, "no such resource")

    def _worklog_call(
        self, method: str, issue_ref: str, worklog_id: str | None, query: dict[str, Any], body: Any, user: JiraUser
    ) -> Response[Any]:
        issue = self._issue(issue_ref)
        if issue is None:
            return self._error(404, "Issue does not exist or you do not have permission to see it.")
        if query.get("adjustEstimate", "auto") not in ("auto", "leave", "new", "manual"):
            return self._error(400, "adjustEstimate must be auto, leave, new or manual")
        expand = _expands(query)
        if method == "GET" and worklog_id is None:
            return self._issue_worklogs(issue, query, user)
        if method in ("POST", "PUT"):
            refused = _unrecognized(body) if self.flavour != "cloud" else None
            if refused:
                return self._error(400, refused)
            limited = self._write_limited(issue)
            if limited is not None:
                return limited
        if method == "POST" and worklog_id is None:
            problem = _worklog_problem(body, creating=True)
            if problem:
                return Response({"errorMessages": [], "errors": problem}, status_code=400)
            now = datetime.now(UTC)
            worklog = Worklog(
                str(next(self.ids)), issue.id, user.id, _parse_started(body["started"]), _spent(body),
                body.get("comment", ""), body.get("properties", []), now, now,
            )  # fmt: skip
            self.worklogs[worklog.id] = worklog
            issue.time_spent += worklog.seconds
            _touch(issue, now)
            self._notify("issue_work_logged", issue, query)
            return Response(self._worklog_json(worklog, user, self.version, expand=expand), status_code=201)
        worklog = self.worklogs.get(worklog_id or "")
        if worklog is None or worklog.issue_id != issue.id:
            return self._error(404, "Cannot find worklog with id: " + str(worklog_id))
        if method == "GET":
            return Response(self._worklog_json(worklog, user, self.version, expand=expand))
        if worklog.author != user.id:
            return self._error(403, "You do not have the permission to edit this worklog.")
        if method == "PUT":
            problem = _worklog_problem(body, creating=False)
            if problem:
                return Response({"errorMessages": [], "errors": problem}, status_code=400)
            issue.time_spent -= worklog.seconds
            if "started" in body:
                worklog.started = _parse_started(body["started"])
            if "timeSpentSeconds" in body or "timeSpent" in body:
                worklog.seconds = _spent(body)
            if "comment" in body:
                worklog.comment = body["comment"]
            if "properties" in body:
                worklog.properties = body["properties"]
            worklog.updated = datetime.now(UTC)
            issue.time_spent += worklog.seconds
            _touch(issue, worklog.updated)
            self._notify("issue_worklog_updated", issue, query)
            return Response(self._worklog_json(worklog, user, self.version, expand=expand))
        if method == "DELETE":
            self.worklogs.pop(worklog.id)
            issue.time_spent -= worklog.seconds
            self.deleted.append((worklog.id, _ms(datetime.now(UTC))))
            _touch(issue, datetime.now(UTC))
            self._notify("issue_worklog_deleted", issue, query)
            return Response(b"", status_code=204)
        return self._error(405, "method not allowed")

    def _notify(self, event: str, issue: Issue, query: dict[str, Any]) -> None:
        if self.flavour == "cloud" and str(query.get("notifyUsers", "true")).lower() == "false":
            return
        self.notifications.append((event, issue.key))

    def _issue_worklogs(self, issue: Issue, query: dict[str, Any], user: JiraUser) -> Response[Any]:
        start_at, max_results = int(query.get("startAt", 0)), min(int(query.get("maxResults", 5000)), 5000)
        after = int(query["startedAfter"]) if "startedAfter" in query else None
        before = int(query["startedBefore"]) if "startedBefore" in query else None
        if self.flavour != "cloud":
            # Data Center's GET /issue/{key}/worklog takes no paging or date parameters: every worklog, one page.
            start_at, max_results, after, before = 0, 1 << 20, None, None
        items = sorted(
            (
                w
                for w in self.worklogs.values()
                if w.issue_id == issue.id
                and (after is None or _ms(w.started) >= after)
                and (before is None or _ms(w.started) < before)
            ),
            key=lambda w: (w.started, int(w.id)),
        )
        page = items[start_at : start_at + max_results]
        return Response(
            {
                "startAt": start_at,
                "maxResults": max_results,
                "total": len(items),
                "worklogs": [self._worklog_json(w, user, self.version, expand=_expands(query)) for w in page],
            }
        )

    def _feed(self, kind: str, query: dict[str, Any]) -> Response[Any]:
        since = int(query.get("since", 0))
        cutoff = _ms(datetime.now(UTC)) - FEED_GAP_MS
        if kind == "updated":
            changes = [(w.id, _ms(w.updated), w.properties) for w in self.worklogs.values()]
        else:
            changes = [(ident, when, []) for ident, when in self.deleted]
        visible = sorted((c for c in changes if since <= c[1] <= cutoff), key=lambda c: (c[1], int(c[0])))
        page = visible[: self.feed_page_size]
        last = len(visible) <= self.feed_page_size
        until = page[-1][1] if page else since
        values = []
        for ident, when, props in page:
            value: dict[str, Any] = {"worklogId": int(ident), "updatedTime": when}
            wanted = kind == "updated" and "properties" in _expands(query) and self.flavour == "cloud"
            value["properties"] = props if wanted else []
            values.append(value)
        body: dict[str, Any] = {
            "values": values,
            "since": since,
            "until": until,
            "self": f"{self.base_url}/rest/api/{self.version}/worklog/{kind}?since={since}",
            "lastPage": last,
        }
        if not last:
            body["nextPage"] = f"{self.base_url}/rest/api/{self.version}/worklog/{kind}?since={until}"
        return Response(body)

    def _search(self, rest: str, query: dict[str, Any], user: JiraUser) -> Response[Any]:
        cloud = self.flavour == "cloud"
        if cloud and rest == "/search":
            return self._error(410, "The requested API has been removed. Please use /rest/api/3/search/jql.")
        if not cloud and rest == "/search/jql":
            return self._error(404, "no such resource")
        jql = str(query.get("jql", ""))
        found = re.fullmatch(r"\s*(id|key)\s+in\s*\(([^)]*)\)\s*", jql, flags=re.IGNORECASE)
        text = re.fullmatch(
            r'\s*summary\s*~\s*"((?:[^"\\]|\\.)*)"\s*ORDER BY updated DESC\s*', jql, flags=re.IGNORECASE
        )
        worked = re.fullmatch(
            r"\s*worklogAuthor\s*=\s*currentUser\(\)\s+AND\s+updated\s*>=\s*-(\d+)m(\s+ORDER BY updated DESC)?\s*",
            jql,
            flags=re.IGNORECASE,
        )
        if found is not None:
            wanted = {part.strip().strip('"') for part in found[2].split(",") if part.strip()}
            attribute = found[1].lower()
            matches = sorted(
                (issue for issue in self.issues.values() if getattr(issue, attribute) in wanted),
                key=lambda i: int(i.id),
            )
            missing = sorted(wanted - {getattr(issue, attribute) for issue in matches})
            if missing and not cloud:
                # Data Center refuses JQL that names an issue it does not have ("Non-existing data directly
                # referenced in the JQL query", Atlassian KB "How to handle HTTP 400 … on Jira search REST API").
                message = f"An issue with {attribute} '{missing[0]}' does not exist for field '{attribute}'."
                return self._error(400, message)
        elif worked is not None:
            # Issues the user logged work on that changed within the period (a worklog change updates its issue).
            after = datetime.now(UTC) - timedelta(minutes=int(worked[1]))
            mine = {w.issue_id for w in self.worklogs.values() if w.author == user.id}
            reconciling = {part.strip() for part in str(query.get("reconcileIssues", "")).split(",") if cloud}
            snapshot = self.index_snapshot or {}

            def searchable(issue: Issue) -> bool:
                if self.index_snapshot is None or issue.id in reconciling:
                    return issue.id in mine and issue.updated >= after
                updated, authors = snapshot.get(issue.id, (None, frozenset()))
                return updated is not None and user.id in authors and updated >= after

            matches = sorted((i for i in self.issues.values() if searchable(i)), key=lambda i: int(i.id))
            if worked[2]:
                matches.sort(key=lambda i: snapshot.get(i.id, (i.updated,))[0], reverse=True)
        elif text is not None:
            terms = re.findall(r"\w+", re.sub(r"\\(.)", r"\1", text[1]).lower())  # punctuation is not searched
            matches = sorted(
                (i for i in self.issues.values() if all(_has_word_starting(i.summary, term) for term in terms)),
                key=lambda i: i.updated,
                reverse=True,
            )
        else:
            return self._error(400, "the fake Jira understands only 'id in (…)', 'key in (…)' and a summary search")
        # The search index lags behind writes ("search and reconcile", Atlassian developer docs) unless the issue's
        # id is passed in `reconcileIssues` (Cloud's /search/jql).
        reconciled = {part.strip() for part in str(query.get("reconcileIssues", "")).split(",") if part.strip()}
        matches = [i for i in matches if i.id not in self.unindexed or (cloud and i.id in reconciled)]
        # Jira answers more issues a page when only ids or keys are asked for (up to 1000 here; Cloud's
        # "GET search optimized for fields id and key" change notice), else 100.
        keys_only = set(str(query.get("fields", "")).split(",")) <= {"id", "key"}
        size = min(int(query.get("maxResults", 50)), 1000 if keys_only else 100)
        if cloud:
            start = int(query.get("nextPageToken") or 0)
            page = matches[start : start + size]
            body: dict[str, Any] = {"issues": [self._issue_json(i, None, query.get("fields")) for i in page]}
            body["isLast"] = start + size >= len(matches)
            if not body["isLast"]:
                body["nextPageToken"] = str(start + size)
            return Response(body)
        start = int(query.get("startAt", 0))
        page = matches[start : start + size]
        return Response(
            {
                "startAt": start,
                "maxResults": size,
                "total": len(matches),
                "issues": [self._issue_json(i, None, query.get("fields")) for i in page],
            }
        )

    def _write_limited(self, issue: Issue) -> Response[Any] | None:
        now = clock.monotonic()
        writes = self.issue_writes[issue.id]
        while writes and writes[0] < now - 2:
            writes.popleft()
        if len(writes) >= self.issue_write_limit:
            headers = {"Retry-After": "2", "RateLimit-Reason": "jira-per-issue-on-write"}
            return self._error(429, "Rate limit exceeded.", headers=headers)
        writes.append(now)
        return None

    # --- Auth ---------------------------------------------------------------------------------------------

    def _authenticate(self, cloud_id: str | None, headers: Any, method: str, url: str, body: bytes) -> JiraUser | None:
        authorization = headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if cloud_id is not None and scheme == "Basic":
            # The API gateway takes scoped API tokens (Basic e-mail:token); unscoped ones only on the site.
            email, _, token = base64.b64decode(value).decode().partition(":")
            user = next((u for u in self.users.values() if u.email == email and u.token == token), None)
            return user if user is not None and user.scoped and cloud_id == self.cloud_id else None
        if cloud_id is not None:
            # The OAuth gateway: 3LO access tokens only, for this site's cloud id.
            held = self.access_tokens.get(value) if scheme == "Bearer" else None
            if cloud_id != self.cloud_id or held is None or held[0].revoked or held[1] < clock.time():
                return None
            return self.users.get(held[0].user)
        if self.flavour == "cloud":
            if scheme != "Basic":
                return None
            email, _, token = base64.b64decode(value).decode().partition(":")
            return next(
                (u for u in self.users.values() if u.email == email and u.token == token and not u.scoped), None
            )
        if scheme == "Bearer":
            return next((u for u in self.users.values() if u.token == value), None)
        if scheme == "OAuth":
            request = self._oauth1_request(method, url, headers, body)
            if request is None:
                return None
            return self.users.get(self.oauth1_tokens.get(request.token or "", ""))
        return None

    def _oauth1_request(self, method: str, url: str, headers: Any, body: bytes) -> OAuth1Request | None:
        request = OAuth1Request(method, url, body or None, {"Authorization": headers.get("authorization", "")})
        if request.client_id != self.consumer_key or request.signature_method != "RSA-SHA1":
            return None

        class Client:
            @staticmethod
            def get_rsa_public_key() -> str:
                return self.public_key

        request.client = Client()
        return request if verify_rsa_sha1(request) else None

    def _oauth1(
        self, method: str, step: str, query: dict[str, Any], headers: Any, body: bytes, url: str
    ) -> Response[Any]:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        if step == "authorize" and method == "GET":
            pending = self.request_tokens.get(str(query.get("oauth_token")))
            if pending is None or self.consenting_user is None:
                return Response("unknown request token", status_code=400, media_type="text/plain")
            pending["user"] = self.consenting_user
            pending["verifier"] = secrets.token_hex(6)
            callback = str(pending["callback"])
            separator = "&" if "?" in callback else "?"
            query_text = urlencode({"oauth_token": query["oauth_token"], "oauth_verifier": pending["verifier"]})
            return Response(b"", status_code=302, headers={"Location": f"{callback}{separator}{query_text}"})
        request = self._oauth1_request(method, url, headers, body)
        if request is None:
            return Response("oauth_problem=signature_invalid", status_code=401, media_type="text/plain")
        if step == "request-token":
            token = secrets.token_hex(10)
            self.request_tokens[token] = {"callback": request.redirect_uri, "user": None, "verifier": None}
            text = urlencode(
                {"oauth_token": token, "oauth_token_secret": secrets.token_hex(8), "oauth_callback_confirmed": "true"}
            )
            return Response(text, media_type="text/plain", headers=form)
        if step == "access-token":
            pending = self.request_tokens.pop(request.token or "", None)
            verifier = request.oauth_params.get("oauth_verifier")
            if pending is None or pending["user"] is None or verifier != pending["verifier"]:
                return Response("oauth_problem=token_rejected", status_code=401, media_type="text/plain")
            token = secrets.token_hex(12)
            self.oauth1_tokens[token] = str(pending["user"])
            text = urlencode(
                {"oauth_token": token, "oauth_token_secret": secrets.token_hex(8), "oauth_expires_in": "157680000"}
            )
            return Response(text, media_type="text/plain", headers=form)
        return Response("not found", status_code=404, media_type="text/plain")

    def _oauth2(self, path: str, query: dict[str, Any], headers: Any, body: bytes) -> Response[Any]:
        if path == "/authorize":
            scopes = set(str(query.get("scope", "")).split())
            if query.get("client_id") != self.client_id or query.get("audience") != "api.atlassian.com":
                return Response({"error": "invalid_request"}, status_code=400)
            if "offline_access" not in scopes or query.get("response_type") != "code" or self.consenting_user is None:
                return Response({"error": "invalid_request"}, status_code=400)
            code = secrets.token_hex(8)
            self.codes[code] = (self.consenting_user, str(query["redirect_uri"]))
            location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            return Response(b"", status_code=302, headers={"Location": location})
        if path == "/oauth/token/accessible-resources":
            token = headers.get("authorization", "").removeprefix("Bearer ")
            held = self.access_tokens.get(token)
            if held is None or held[0].revoked or held[1] < clock.time():
                return Response({"code": 401, "message": "Unauthorized"}, status_code=401)
            site = {
                "id": self.cloud_id,
                "url": self.site_url or self.base_url,
                "name": "fake",
                "scopes": ["read:jira-work"],
                "avatarUrl": "",
            }
            return Response([*self.other_sites, site])
        # The token endpoint takes JSON only, as Atlassian's does.
        if not headers.get("content-type", "").startswith("application/json"):
            return Response({"error": "invalid_request", "error_description": "expected JSON"}, status_code=415)
        data = _json(body) or {}
        self.token_requests.append({k: v for k, v in data.items() if k != "client_secret"})
        if (data.get("client_id"), data.get("client_secret")) != (self.client_id, self.client_secret):
            return Response({"error": "access_denied", "error_description": "Unauthorized"}, status_code=401)
        if data.get("grant_type") == "authorization_code":
            held = self.codes.pop(str(data.get("code")), None)
            if held is None or held[1] != data.get("redirect_uri"):
                return Response({"error": "invalid_grant"}, status_code=403)
            grant = Grant(user=held[0], refresh_token="")
            self.grants.append(grant)
        elif data.get("grant_type") == "refresh_token":
            token = str(data.get("refresh_token"))
            grant = next((g for g in self.grants if g.refresh_token == token and not g.revoked), None)
            reused = next((g for g in self.grants if token in g.used_refresh_tokens), None)
            if reused is not None:
                # Reuse of a rotated refresh token: Atlassian may revoke the whole grant.
                reused.revoked = True
            if grant is None:
                return Response(
                    {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."},
                    status_code=403,
                )
            grant.used_refresh_tokens.add(token)
        else:
            return Response({"error": "unsupported_grant_type"}, status_code=400)
        grant.refresh_token = secrets.token_hex(16)
        access = secrets.token_hex(16)
        self.access_tokens[access] = (grant, clock.time() + self.access_token_lifetime)
        return Response(
            {
                "access_token": access,
                "expires_in": self.access_token_lifetime,
                "token_type": "Bearer",
                "refresh_token": grant.refresh_token,
                "scope": "read:jira-work write:jira-work read:jira-user offline_access",
            }
        )

    # --- Rendering ----------------------------------------------------------------------------------------

    def _issue(self, ref: str) -> Issue | None:
        return self.issues.get(ref) or self.issues_by_id().get(ref)

    def _user_json(self, user: JiraUser, *, full: bool = False) -> dict[str, Any]:
        if self.flavour == "cloud":
            data: dict[str, Any] = {
                "self": f"{self.base_url}/rest/api/3/user?accountId={user.id}",
                "accountId": user.id,
                "displayName": user.display_name,
                "active": True,
                "timeZone": user.timezone,
                "accountType": "atlassian",
            }
        else:
            data = {
                "self": f"{self.base_url}/rest/api/2/user?username={user.name}",
                "name": user.name,
                "key": user.id,
                "displayName": user.display_name,
                "active": True,
                "timeZone": user.timezone,
            }
        if full:
            data["emailAddress"] = user.email
            data["locale"] = "en_US"
        return data

    def _worklog_json(
        self, worklog: Worklog, reader: JiraUser | None, version: int, *, expand: set[str] | bool
    ) -> dict[str, Any]:
        zone = ZoneInfo(reader.timezone) if reader else UTC
        if reader is not None:
            self.bodies[reader.id] += 1
        author = self._user_json(self.users[worklog.author])
        comment = worklog.comment
        if version == 2 and isinstance(comment, dict):
            comment = _adf_text(comment)
        elif version == 3 and isinstance(comment, str):
            comment = _adf(comment)
        data: dict[str, Any] = {
            "self": f"{self.base_url}/rest/api/{version}/issue/{worklog.issue_id}/worklog/{worklog.id}",
            "author": author,
            "updateAuthor": author,
            "comment": comment,
            "created": _jira_time(worklog.created, zone),
            "updated": _jira_time(worklog.updated, zone),
            "started": _jira_time(worklog.started, zone),
            "timeSpent": _spent_text(worklog.seconds),
            "timeSpentSeconds": worklog.seconds,
            "id": worklog.id,
            "issueId": worklog.issue_id,
        }
        cloud = self.flavour == "cloud"
        if cloud and (expand is True or (isinstance(expand, set) and "properties" in expand)):
            data["properties"] = worklog.properties
        return data

    def _issue_json(self, issue: Issue, reader: JiraUser | None, fields: str | None) -> dict[str, Any]:
        zone = ZoneInfo(reader.timezone) if reader else UTC
        project = issue.key.split("-")[0]
        everything = {
            "summary": issue.summary,
            "status": {"name": issue.status, "id": "1", "self": f"{self.base_url}/rest/api/{self.version}/status/1"},
            "issuetype": {"name": "Task", "id": "10001", "subtask": False},
            "project": {"id": "10000", "key": project, "name": f"Project {project}"},
            "assignee": None,
            "timetracking": {"timeSpentSeconds": issue.time_spent, "timeSpent": _spent_text(issue.time_spent)},
            "updated": _jira_time(issue.updated, zone),
        }
        wanted = [name.strip() for name in (fields or "").split(",") if name.strip()]
        chosen = {name: value for name, value in everything.items() if not wanted or name in wanted}
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.base_url}/rest/api/{self.version}/issue/{issue.id}",
            "fields": chosen,
        }

    def _error(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> Response[Any]:
        return Response({"errorMessages": [message], "errors": {}}, status_code=status, headers=headers or {})


def _touch(issue: Issue, moment: datetime) -> None:
    """A worklog change updates its issue (what JQL's `updated` sees)."""
    issue.updated = max(issue.updated, moment)


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return dict(parse_qsl(body.decode(errors="replace")))


def _expands(query: dict[str, Any]) -> set[str]:
    return {part.strip() for part in str(query.get("expand", "")).split(",") if part.strip()}


def _unrecognized(body: Any) -> str | None:
    """Data Center's answer to a worklog body with a field its bean does not have (Jackson's message)."""
    if not isinstance(body, dict):
        return None
    for name in body:
        if name not in DC_WORKLOG_FIELDS:
            return (
                f'Unrecognized field "{name}" (Class com.atlassian.jira.rest.v2.issue.worklog.WorklogJsonBean), '
                "not marked as ignorable"
            )
    return None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _jira_time(moment: datetime, zone: Any) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{local:%z}"


def _parse_started(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def _spent(body: dict[str, Any]) -> int:
    if body.get("timeSpentSeconds") is not None:
        return int(body["timeSpentSeconds"])
    return 0


def _worklog_problem(body: Any, *, creating: bool) -> dict[str, str] | None:
    if not isinstance(body, dict):
        return {"body": "a worklog object is required"}
    if creating and "started" not in body:
        return {"started": "Started date is required."}
    if "started" in body and not STARTED.match(str(body["started"])):
        return {"started": "Invalid date format. Please enter the date in the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."}
    if (creating or "timeSpentSeconds" in body) and int(body.get("timeSpentSeconds") or 0) <= 0:
        return {"timeLogged": "You must indicate the time spent working."}
    return None


def _spent_text(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return " ".join(part for part in (f"{hours}h" if hours else "", f"{minutes}m" if minutes else "") if part) or "0m"


def _adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
            for line in text.split("\n")
        ],
    }


def _adf_text(document: dict[str, Any]) -> str:
    lines = []
    for block in document.get("content") or []:
        lines.append("".join(str(node.get("text", "")) for node in block.get("content") or []))
    return "\n".join(lines)


def _has_word_starting(summary: str, term: str) -> bool:
    return any(word.startswith(term) for word in re.findall(r"\w+", summary.lower()))


def rsa_key_pair() -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair, as an admin makes for a Jira application link."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
