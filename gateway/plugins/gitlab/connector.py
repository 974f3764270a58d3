"""The GitLab connector (gitlab.com and self-managed): timelogs over GraphQL, issues over REST.

Auth modes, per ticket system (`config.auth`):
- `oauth2`: authorization code with PKCE (S256) at `/oauth/authorize` and `/oauth/token`; access tokens live two
  hours and every refresh rotates both tokens (the gateway serialises refreshes per link and stores the new pair
  before anything else; a refused refresh token means "reconnect needed"). Revoked at `/oauth/revoke`.
- `personal_token`: a personal (or project) access token, sent as `PRIVATE-TOKEN`.

Timelogs: `timelogCreate` and `timelogDelete` are all GitLab has (REST `add_spent_time` has no date and returns no
id). A timelog always belongs to the token's owner. An edit is a create and then a delete; the marker in the
summary (` [tt:<entry uuid>]`) makes a crash between the two harmless: the next attempt finds the timelog it
already made, the older one with the same marker is removed, and reads show only the newest timelog of a marker.

Pulls poll `timelogs(username, startTime, endTime)`, whose bounds apply to `spentAt`: time logged today for last
week only shows in a window reaching back to last week. So each pull reads the whole window of
`pull_window_days` (every page, 100 a page) and compares it with the previous read (`compare_window`). Timelogs
never change in place, so one that vanished from inside the window was deleted.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
import msgspec

from gateway.connectors import (
    AuthExpired,
    AuthKind,
    Capability,
    Credentials,
    NotFound,
    OAuth2Client,
    OAuth2Connector,
    PullPage,
    RateLimited,
    Rejected,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    Transient,
    WebhookDelivery,
    WorklogDraft,
    add_marker,
    compare_window,
    error_for_response,
    fingerprint,
    retry_after_seconds,
    split_marker,
    to_instant,
    zone,
)
from gateway.plugins.gitlab import graphql, webhooks
from gateway.plugins.gitlab.keys import PROJECT_PATH, TicketKey, canonical, numeric_id, parse_key

MAX_SUMMARY = 255  # GitLab's limit on a timelog's summary
MAX_PAGE_SIZE = 100  # GitLab's maximum page size, GraphQL connections and REST lists alike


class GitLabConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A GitLab instance; the base URL is its address (https://gitlab.com, or a self-managed one)."""

    auth: Annotated[
        Literal["oauth2", "personal_token"],
        msgspec.Meta(description="How users connect: OAuth 2.0 (an application in GitLab) or personal access tokens"),
    ] = "oauth2"
    client_id: Annotated[
        str | None, msgspec.Meta(description="OAuth 2.0: the GitLab application's id (its secret: client_secret)")
    ] = None
    scope: Annotated[
        Literal["api", "read_api"],
        msgspec.Meta(description="OAuth 2.0 scope: api to write timelogs, read_api for a system that only reads"),
    ] = "api"
    default_project: Annotated[
        str | None, msgspec.Meta(description="The project a bare #123 or !12 means, as group/subgroup/project")
    ] = None
    projects: Annotated[
        list[str], msgspec.Meta(description="Projects (group/project) whose issues the ticket search and cache follow")
    ] = msgspec.field(default_factory=list)
    timezone: Annotated[
        str | None,
        msgspec.Meta(description="IANA zone that booked times are written in (GitLab's API shows no user zone)"),
    ] = None
    pull_window_days: Annotated[
        int, msgspec.Meta(ge=1, le=366, description="How many days of spentAt each pull reads completely")
    ] = 62
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE, description="Timelogs per GraphQL page")] = 100

    def __post_init__(self) -> None:
        if self.auth == "oauth2" and not self.client_id:
            raise ValueError("GitLab OAuth needs the application's client_id")
        for path in [self.default_project, *self.projects]:
            if path is not None and not PROJECT_PATH.match(path):
                raise ValueError(f"{path!r} is not a GitLab project path such as group/project")
        if self.timezone:
            try:
                zone(self.timezone)
            except Rejected:
                raise ValueError(f"{self.timezone!r} is not a time zone this machine knows") from None


class GitLabConnector(OAuth2Connector[GitLabConfig]):
    name = "gitlab"
    auth_modes = {"oauth2": AuthKind.OAUTH2, "personal_token": AuthKind.PERSONAL_TOKEN}
    auth_mode_field = "auth"
    secret_names = ("client_secret", "webhook_secret", "webhook_signing_token")
    capabilities = frozenset(
        {
            Capability.REFRESH,
            Capability.WEBHOOKS,
            Capability.DELETION_FEED,
            Capability.CHANGED_TICKETS,
            Capability.SEARCH,
        }
    )

    # Linking ---------------------------------------------------------------------------------------------------

    def oauth2_client(self) -> OAuth2Client:
        if self.config.auth != "oauth2" or not self.config.client_id:
            raise Rejected("this GitLab ticket system is not set up for OAuth (config auth and client_id)")
        base = self.context.base_url
        return OAuth2Client(
            authorize_url=f"{base}/oauth/authorize",
            token_url=f"{base}/oauth/token",
            revoke_url=f"{base}/oauth/revoke",
            client_id=self.config.client_id,
            client_secret=self.context.secrets.get("client_secret"),
            redirect_uri=self.context.redirect_uri or "",
            scopes=(self.config.scope,),
        )

    async def account(self, credentials: Credentials) -> RemoteAccount:
        user = await self._me(credentials)
        return RemoteAccount(id=user["id"], name=user["name"], timezone=None)

    async def check_config(self) -> None:
        return  # nothing to check without a user's token; paths are checked by the config struct

    # Worklogs --------------------------------------------------------------------------------------------------

    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        key = self._key(draft.ticket)
        issuable = await self._issuable_id(credentials, key)
        return await self._create(credentials, issuable, draft)

    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        """Create the new timelog, then delete the old one (GitLab has no update); the id changes.

        A crash between the two leaves both, each with the marker: the next attempt finds the new one (it matches
        the draft) instead of creating a third, and removes the rest. A worklog deleted in GitLab is not brought
        back: `NotFound`.
        """
        key = self._key(draft.ticket)
        account = await self._account_id(credentials)
        issuable, nodes = await self._issuable_timelogs(credentials, key)
        mine = [node for node in nodes if _author(node) == account]
        marked = sorted((n for n in mine if _marker(n) == draft.marker), key=_newest_first)
        wanted = self._written(draft, credentials)
        keep_node = next((n for n in marked if n["id"] == worklog_id and _same(n, wanted)), None) or next(
            (n for n in marked if _same(n, wanted)), None
        )
        created = keep_node is None
        keep = (
            await self._create(credentials, issuable, draft)
            if keep_node is None
            else self._worklog(keep_node, credentials)
        )
        for node in marked:
            if node["id"] != keep.id:
                await self._delete(credentials, node["id"])
        if worklog_id != keep.id and worklog_id not in {node["id"] for node in marked}:
            existed = await self._delete(credentials, worklog_id)
            if not existed and created and not marked:
                # Deleted in GitLab meanwhile: take back what was just written, and say so.
                await self._delete(credentials, keep.id)
                raise NotFound(f"update timelog {worklog_id}: it was deleted in GitLab")
        return keep

    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        """Delete the timelog, and any other of the account's on the ticket that carries the same marker (left by
        an edit that was interrupted)."""
        doomed = [worklog_id]
        try:
            account = await self._account_id(credentials)
            _issuable, nodes = await self._issuable_timelogs(credentials, self._key(ticket))
        except (NotFound, Rejected):
            nodes = []
        target = next((node for node in nodes if node["id"] == worklog_id), None)
        marker = _marker(target) if target is not None else None
        if marker is not None:
            doomed += [
                n["id"] for n in nodes if n["id"] != worklog_id and _author(n) == account and _marker(n) == marker
            ]
        for timelog_id in doomed:
            await self._delete(credentials, timelog_id)

    async def find_worklog_by_marker(self, credentials: Credentials, ticket: str, marker: str) -> RemoteWorklog | None:
        account = await self._account_id(credentials)
        try:
            _issuable, nodes = await self._issuable_timelogs(credentials, self._key(ticket))
        except NotFound:
            return None
        marked = sorted((n for n in nodes if _author(n) == account and _marker(n) == marker), key=_newest_first)
        return self._worklog(marked[0], credentials) if marked else None

    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        me = await self._me(credentials)
        now = datetime.now(UTC)
        window_start = now.date() - timedelta(days=self.config.pull_window_days)
        variables: dict[str, Any] = {
            "username": me["username"],
            "startTime": datetime.combine(window_start, time(0), tzinfo=UTC).isoformat(),
            # Up to tomorrow: a clock a little ahead of ours on GitLab's side loses nothing.
            "endTime": (now + timedelta(days=1)).isoformat(),
        }
        nodes = [
            node
            for node in await self._all_nodes(credentials, graphql.USER_TIMELOGS, variables, ("timelogs",), "pull")
            if _author(node) == me["id"]
        ]
        by_id = {node["id"]: node for node in nodes}
        window = compare_window(
            cursor,
            {ident: (_fingerprint(node), _utc_day(node)) for ident, node in by_id.items()},
            window_start,
        )
        superseded = _superseded(nodes)
        changed = [self._worklog(by_id[ident], credentials) for ident in window.changed if ident not in superseded]
        # Timelogs never change in place: one gone from inside the window was deleted.
        return PullPage(worklogs=changed, deleted_ids=window.vanished, cursor=window.cursor)

    # Tickets ---------------------------------------------------------------------------------------------------

    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        ticket_key = self._key(key)
        body = await self._rest(credentials, ticket_key.rest_path, f"read {ticket_key.key}")
        return _ticket(body, ticket_key.merge_request)

    async def search_tickets(self, credentials: Credentials, text: str, limit: int) -> list[TicketData]:
        """A key (full, or `#123` in the default project) is fetched; other text searches titles and descriptions
        of the configured projects' issues (without any: every issue the user can see), most recently changed
        first."""
        text = text.strip()
        if not text or limit < 1:
            return []
        if key := _as_key(text, self.config.default_project):
            try:
                return [await self.fetch_ticket(credentials, key)]
            except NotFound:
                return []
        params = {"search": text, "state": "all", "order_by": "updated_at", "sort": "desc", "per_page": str(limit)}
        found: list[TicketData] = []
        for path in self._issue_lists():
            body = await self._rest(credentials, path, "search issues", params=params)
            found += [_ticket(issue, False) for issue in body]
        found.sort(key=lambda t: t.updated_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return found[:limit]

    async def changed_tickets(self, credentials: Credentials | None, since: datetime) -> list[TicketData]:
        """Issues of the configured projects changed at or after `since` (without projects configured: none;
        the cache then fills from bookings, searches and webhooks)."""
        if credentials is None:
            raise Rejected("GitLab needs a connected user's token to list changed issues")
        paths = [path for path in self._issue_lists() if path != "/issues"]
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tickets: list[TicketData] = []
        for path in paths:
            page: str | None = "1"
            while page:
                params = {"updated_after": moment, "state": "all", "per_page": str(MAX_PAGE_SIZE), "page": page}
                response = await self._send("GET", f"{self._api}{path}", credentials, "list changed issues",
                                            params=params)  # fmt: skip
                tickets += [_ticket(issue, False) for issue in response.json()]
                page = response.headers.get("x-next-page") or None
        return tickets

    # Webhooks --------------------------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        signing = self.context.secrets.get("webhook_signing_token")
        if signing:
            return webhooks.signature_valid(headers, body, signing)
        secret = self.context.secrets.get("webhook_secret")
        return bool(secret) and webhooks.token_valid(headers, secret or "")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        try:
            payload = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise Rejected("not a GitLab webhook body (no JSON)") from None
        if not isinstance(payload, dict):
            raise Rejected("not a GitLab webhook body (no JSON object)")
        # Hooks of other kinds (push, pipeline, ...) are accepted and ignored: GitLab disables a hook after
        # repeated 4xx answers.
        return WebhookDelivery(delivery_id=webhooks.delivery_id(headers, body), events=webhooks.events(payload))

    # Plumbing --------------------------------------------------------------------------------------------------

    @property
    def _api(self) -> str:
        return f"{self.context.base_url}/api/v4"

    def _key(self, text: str) -> TicketKey:
        return parse_key(text, self.config.default_project)

    def _zone(self, credentials: Credentials) -> tzinfo:
        return zone(credentials.timezone or self.config.timezone)

    def _zone_name(self, credentials: Credentials) -> str | None:
        return credentials.timezone or self.config.timezone

    def _issue_lists(self) -> list[str]:
        paths = list(dict.fromkeys([*self.config.projects, *filter(None, [self.config.default_project])]))
        if not paths:
            return ["/issues"]  # every issue the user can see (scope=all below)
        return [f"/projects/{_quote(path)}/issues" for path in paths]

    def _headers(self, credentials: Credentials | None) -> dict[str, str]:
        if credentials is None:
            return {}
        if self.config.auth == "personal_token":
            return {"PRIVATE-TOKEN": credentials.access_token}
        return {"Authorization": f"Bearer {credentials.access_token}"}

    async def _send(
        self, method: str, url: str, credentials: Credentials | None, what: str, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = await self.context.http.request(method, url, headers=self._headers(credentials), **kwargs)
        except httpx.HTTPError as exc:
            raise Transient(f"{what}: GitLab did not answer ({type(exc).__name__})") from None
        if response.status_code == 429:
            raise RateLimited(f"{what}: GitLab asks to slow down (429)", _retry_after(response))
        if response.status_code == 403:
            raise Rejected(f"{what}: GitLab refused it (403): {_message(response)}")
        if response.status_code == 401 and method == "POST" and url.endswith("/api/graphql"):
            raise AuthExpired(f"{what}: GitLab no longer accepts the credentials (401)")
        if response.is_error:
            raise error_for_response(response, what)
        return response

    async def _rest(self, credentials: Credentials | None, path: str, what: str, **kwargs: Any) -> Any:
        if credentials is None:
            raise Rejected("GitLab needs a connected user's token to read tickets")
        if path == "/issues":
            kwargs["params"] = {**kwargs.get("params", {}), "scope": "all"}
        return (await self._send("GET", f"{self._api}{path}", credentials, what, **kwargs)).json()

    async def _graphql(self, credentials: Credentials, query: str, variables: dict[str, Any], what: str) -> Any:
        response = await self._send(
            "POST", f"{self.context.base_url}/api/graphql", credentials, what,
            json={"query": query, "variables": variables},
        )  # fmt: skip
        try:
            body = response.json()
        except ValueError:
            raise Transient(f"{what}: GitLab answered something other than JSON") from None
        if body.get("errors"):
            raise graphql.graphql_error(body["errors"], what)
        return body.get("data") or {}

    async def _me(self, credentials: Credentials) -> dict[str, str]:
        data = await self._graphql(credentials, graphql.CURRENT_USER, {}, "read the account")
        user = data.get("currentUser")
        if not user:
            # GitLab reads an unknown token on some paths as anonymous: no current user.
            raise AuthExpired("read the account: GitLab does not know these credentials")
        return {
            "id": numeric_id(user["id"]) or "",
            "username": user["username"],
            "name": user.get("name") or user["username"],
        }

    async def _account_id(self, credentials: Credentials) -> str:
        return credentials.account_id or (await self._me(credentials))["id"]

    async def _issuable_id(self, credentials: Credentials, key: TicketKey) -> str:
        data = await self._graphql(
            credentials, graphql.issuable_id_query(key.graphql_field), {"fullPath": key.path, "iid": str(key.iid)},
            f"find {key.key}",
        )  # fmt: skip
        issuable = (data.get("project") or {}).get(key.graphql_field)
        if not issuable:
            raise NotFound(f"{key.key} does not exist in GitLab or is not visible to this user")
        return str(issuable["id"])

    async def _issuable_timelogs(self, credentials: Credentials, key: TicketKey) -> tuple[str, list[dict[str, Any]]]:
        """The issue's (or merge request's) global id and all its timelogs, every page read."""
        query = graphql.issuable_timelogs_query(key.graphql_field)
        variables: dict[str, Any] = {"fullPath": key.path, "iid": str(key.iid)}
        issuable_id = ""
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = await self._graphql(
                credentials, query, {**variables, "first": self._page_size, "after": after}, f"read {key.key}'s time"
            )
            issuable = (data.get("project") or {}).get(key.graphql_field)
            if not issuable:
                raise NotFound(f"{key.key} does not exist in GitLab or is not visible to this user")
            issuable_id = str(issuable["id"])
            connection = issuable["timelogs"]
            nodes += [node for node in connection["nodes"] if node]
            if not connection["pageInfo"]["hasNextPage"]:
                return issuable_id, nodes
            after = connection["pageInfo"]["endCursor"]

    async def _all_nodes(
        self, credentials: Credentials, query: str, variables: dict[str, Any], path: tuple[str, ...], what: str
    ) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = await self._graphql(
                credentials, query, {**variables, "first": self._page_size, "after": after}, what
            )
            connection = data
            for name in path:
                connection = (connection or {}).get(name)
            if connection is None:
                raise Rejected(f"{what}: GitLab answered without {'.'.join(path)}")
            nodes += [node for node in connection["nodes"] if node]
            if not connection["pageInfo"]["hasNextPage"]:
                return nodes
            after = connection["pageInfo"]["endCursor"]

    @property
    def _page_size(self) -> int:
        return max(1, min(MAX_PAGE_SIZE, self.config.page_size))

    def _written(self, draft: WorklogDraft, credentials: Credentials) -> tuple[datetime, int, str]:
        """What a timelog for `draft` holds: (spentAt, seconds, summary)."""
        return (
            to_instant(draft.day, draft.start, self._zone_name(credentials)),
            draft.minutes * 60,
            add_marker(draft.description, draft.marker, max_length=MAX_SUMMARY),
        )

    async def _create(self, credentials: Credentials, issuable: str, draft: WorklogDraft) -> RemoteWorklog:
        if draft.minutes <= 0:
            raise Rejected("GitLab refuses a timelog of no time")
        variables = {
            "issuableId": issuable,
            "timeSpent": duration(draft.minutes),
            "spentAt": to_instant(draft.day, draft.start, self._zone_name(credentials)).isoformat(),
            "summary": add_marker(draft.description, draft.marker, max_length=MAX_SUMMARY),
        }
        data = await self._graphql(credentials, graphql.CREATE_TIMELOG, variables, f"log time on {draft.ticket}")
        result = data.get("timelogCreate") or {}
        if result.get("errors"):
            raise graphql.payload_error(result["errors"], f"log time on {draft.ticket}")
        if not result.get("timelog"):
            raise Rejected(f"log time on {draft.ticket}: GitLab answered without a timelog")
        return self._worklog(result["timelog"], credentials)

    async def _delete(self, credentials: Credentials, timelog_id: str) -> bool:
        """Delete a timelog; False when it was not there (GitLab cannot tell gone from not ours: both are gone)."""
        try:
            data = await self._graphql(credentials, graphql.DELETE_TIMELOG, {"id": timelog_id}, "delete a timelog")
        except NotFound:
            return False
        result = data.get("timelogDelete") or {}
        if result.get("errors"):
            raise graphql.payload_error(result["errors"], "delete a timelog")
        return True

    def _worklog(self, node: dict[str, Any], credentials: Credentials) -> RemoteWorklog:
        spent_at = _spent_at(node)
        local = spent_at.astimezone(self._zone(credentials))
        description, marker = split_marker(node.get("summary") or "")
        return RemoteWorklog(
            id=str(node["id"]),
            ticket=_node_key(node),
            day=local.date(),
            start=local.time().replace(second=0, microsecond=0, tzinfo=None),
            minutes=round(int(node["timeSpent"]) / 60),
            description=description,
            # Timelogs never change in place: when it was spent is as good as when it was last changed.
            updated_at=spent_at,
            author_id=_author(node),
            marker=marker,
        )


# --- Helpers ----------------------------------------------------------------------------------------------------


def duration(minutes: int) -> str:
    """GitLab's duration syntax, in hours and minutes only (a `d` would be GitLab's 8-hour working day)."""
    hours, rest = divmod(minutes, 60)
    return " ".join(part for part in (f"{hours}h" if hours else "", f"{rest}m" if rest else "") if part) or "0m"


def _quote(path: str) -> str:
    return quote(path, safe="")


def _spent_at(node: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(str(node["spentAt"]).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc_day(node: dict[str, Any]) -> date:
    return _spent_at(node).astimezone(UTC).date()


def _author(node: dict[str, Any] | None) -> str | None:
    return numeric_id(((node or {}).get("user") or {}).get("id"))


def _marker(node: dict[str, Any] | None) -> str | None:
    return split_marker((node or {}).get("summary") or "")[1]


def _node_key(node: dict[str, Any]) -> str:
    path = (node.get("project") or {}).get("fullPath", "")
    if node.get("mergeRequest"):
        return canonical(path, True, node["mergeRequest"]["iid"])
    if node.get("issue"):
        return canonical(path, False, node["issue"]["iid"])
    return ""


def _number(node: dict[str, Any]) -> int:
    tail = numeric_id(node.get("id")) or "0"
    return int(tail) if tail.isdigit() else 0


def _newest_first(node: dict[str, Any]) -> int:
    return -_number(node)


def _superseded(nodes: list[dict[str, Any]]) -> set[str]:
    """Timelogs that an interrupted edit left behind: all but the newest of each marker."""
    newest: dict[str, dict[str, Any]] = {}
    for node in nodes:
        marker = _marker(node)
        if marker is not None and (marker not in newest or _number(node) > _number(newest[marker])):
            newest[marker] = node
    return {node["id"] for node in nodes if (m := _marker(node)) is not None and newest[m]["id"] != node["id"]}


def _same(node: dict[str, Any], wanted: tuple[datetime, int, str]) -> bool:
    spent_at, seconds, summary = wanted
    return _spent_at(node) == spent_at and int(node["timeSpent"]) == seconds and (node.get("summary") or "") == summary


def _fingerprint(node: dict[str, Any]) -> str:
    return fingerprint(node["spentAt"], node["timeSpent"], node.get("summary"), _node_key(node))


def _ticket(item: dict[str, Any], merge_request: bool) -> TicketData:
    full = ((item.get("references") or {}).get("full")) or ""
    path = full.rsplit("!" if merge_request else "#", 1)[0]
    assignees = item.get("assignees") or []
    assignee = (assignees[0] if assignees else item.get("assignee")) or {}
    return TicketData(
        key=canonical(path, merge_request, item["iid"]),
        summary=str(item.get("title") or ""),
        status=item.get("state"),
        assignee=assignee.get("name"),
        updated_at=webhooks.parse_time(item.get("updated_at")),
        raw={
            "labels": list(item.get("labels") or []),
            "state": item.get("state"),
            "web_url": item.get("web_url"),
            "time_stats": item.get("time_stats") or {},
        },
    )


def _as_key(text: str, default_project: str | None) -> str | None:
    try:
        return parse_key(text, default_project).key
    except Rejected:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After, else the time to RateLimit-Reset (epoch seconds); None (back off on our own) without either:
    some GraphQL 429s carry no header at all."""
    seconds = retry_after_seconds(response.headers.get("retry-after"))
    if seconds is not None:
        return seconds
    reset = response.headers.get("ratelimit-reset", "")
    if reset.isdigit():
        return float(max(1, math.ceil(int(reset) - clock.time())))
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error_description", "error"):
            if body.get(key):
                return str(body[key])[:300]
        if body.get("errors"):
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in body["errors"])[:300]
    return str(body)[:300]
