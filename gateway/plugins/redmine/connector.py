"""The Redmine connector (REST API; checked against Redmine 5.0.4, later versions from their source).

Auth modes, chosen per ticket system (`config.auth`):
- `api_key`: each user stores their own API key (`X-Redmine-API-Key`). A wrong key on a public project reads as
  anonymous with a 200, so a key is checked with `GET /users/current.json`, which answers 401 for it.
- `admin`: one admin key for the system (secret `admin_api_key`) and, per user, their Redmine login sent as
  `X-Redmine-Switch-User` (412 for an unknown or locked login).
- `oauth2`: Redmine ≥ 6.1 (Doorkeeper): `/oauth/authorize`, `/oauth/token`, PKCE, 2-hour tokens with refresh.

Time entries carry no start time and no updated-since filter (an `updated_on` parameter is silently ignored).
So the pull reads a window of `spent_on` days completely and compares it with the previous read
(`compare_window`): new or changed entries are changes; an id that was in the window and is gone is looked up
once — 404 is a deletion, anything else a move out of the window. The marker is a tag at the end of `comments`
(at most 1024 characters). Issues, unlike time entries, filter by `updated_on` (`>=` an ISO time): the ticket
cache follows them with `changed_tickets`. Webhooks exist from Redmine 7.0 (`X-Redmine-Signature-256`), without
a delivery id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
import msgspec

from gateway.connectors import (
    AuthKind,
    AuthRevoked,
    Capability,
    Credentials,
    NotFound,
    OAuth2Client,
    OAuth2Connector,
    PullPage,
    Rejected,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    Transient,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WorklogDraft,
    add_marker,
    compare_window,
    error_for_response,
    fingerprint,
    hmac_sha256_hex,
    same_secret,
    split_marker,
)

MAX_COMMENTS = 1024
MAX_PAGE_SIZE = 100  # Redmine's maximum `limit`
ISSUE_KEY = re.compile(r"^#?(\d+)$")


class RedmineConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A Redmine ticket system; the base URL is Redmine's address."""

    auth: Annotated[
        Literal["api_key", "admin", "oauth2"],
        msgspec.Meta(
            description="How users connect: their own API key, one admin key acting as them (secret "
            "admin_api_key), or OAuth 2.0 (Redmine 6.1 and newer)"
        ),
    ] = "api_key"
    activity_map: Annotated[
        dict[str, int], msgspec.Meta(description="Gateway activity name -> Redmine time entry activity id")
    ] = msgspec.field(default_factory=dict)
    default_activity_id: Annotated[
        int | None, msgspec.Meta(description="The Redmine activity of worklogs whose activity is not mapped")
    ] = None
    pull_window_days: Annotated[
        int, msgspec.Meta(ge=1, le=366, description="How many days back each pull reads completely")
    ] = 62
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE, description="Entries per page of a read")] = 100
    client_id: Annotated[
        str | None, msgspec.Meta(description="OAuth 2.0: the application's client id (its secret: client_secret)")
    ] = None


class RedmineConnector(OAuth2Connector[RedmineConfig]):
    name = "redmine"
    auth_modes = {"api_key": AuthKind.API_KEY, "admin": AuthKind.API_KEY, "oauth2": AuthKind.OAUTH2}
    auth_mode_field = "auth"
    secret_names = ("admin_api_key", "client_secret", "webhook_secret")
    capabilities = frozenset(
        {
            Capability.REFRESH,
            Capability.WEBHOOKS,
            Capability.DELETION_FEED,
            Capability.CHANGED_TICKETS,
            Capability.SEARCH,
            # `PUT /time_entries/{id}.json` takes another `issue_id`: the entry keeps its id and history.
            Capability.MOVE_WORKLOG,
        }
    )

    # Linking ---------------------------------------------------------------------------------------------------

    # Redmine's active activities by name (casefolded), read once per connector when a name needs looking up.
    _activities: dict[str, int] | None = None

    def oauth2_client(self) -> OAuth2Client:
        if self.config.auth != "oauth2" or not self.config.client_id:
            raise Rejected("this Redmine ticket system is not set up for OAuth (config auth and client_id)")
        base = self.context.base_url
        return OAuth2Client(
            authorize_url=f"{base}/oauth/authorize",
            token_url=f"{base}/oauth/token",
            revoke_url=f"{base}/oauth/revoke",
            client_id=self.config.client_id,
            client_secret=self.context.secrets.get("client_secret"),
            redirect_uri=self.context.redirect_uri or "",
            scopes=("view_issues", "view_time_entries", "log_time", "edit_own_time_entries"),
        )

    async def account(self, credentials: Credentials) -> RemoteAccount:
        body = await self._call("GET", "/users/current.json", credentials, "read the account")
        user = body["user"]
        return RemoteAccount(id=str(user["id"]), name=f"{user.get('firstname', '')} {user.get('lastname', '')}".strip())

    async def check_config(self) -> None:
        wanted = set(self.config.activity_map.values())
        if self.config.default_activity_id is not None:
            wanted.add(self.config.default_activity_id)
        if not wanted:
            return
        body = await self._call("GET", "/enumerations/time_entry_activities.json", None, "read the activities")
        known = {item["id"]: item for item in body["time_entry_activities"]}
        unknown = sorted(wanted - {i for i, item in known.items() if item.get("active", True)})
        if unknown:
            names = ", ".join(f"{item['id']} {item['name']}" for item in known.values())
            raise Rejected(f"no active Redmine activity with id {', '.join(map(str, unknown))} (there are: {names})")

    # Worklogs --------------------------------------------------------------------------------------------------

    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        entry = await self._entry(draft, update=False)
        body = await self._call(
            "POST", "/time_entries.json", credentials, "create a time entry", json={"time_entry": entry}
        )
        return _worklog(body["time_entry"])

    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        # `issue_id` may name another issue: Redmine moves the entry (same id, its journal kept).
        await self._call(
            "PUT", f"/time_entries/{worklog_id}.json", credentials, "update a time entry",
            json={"time_entry": await self._entry(draft, update=True)},
        )  # fmt: skip
        # Redmine answers 204 without a body: read the entry back.
        body = await self._call("GET", f"/time_entries/{worklog_id}.json", credentials, "read a time entry")
        return _worklog(body["time_entry"])

    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        try:
            await self._call("DELETE", f"/time_entries/{worklog_id}.json", credentials, "delete a time entry")
        except NotFound:
            return

    async def find_worklog_by_marker(self, credentials: Credentials, ticket: str, marker: str) -> RemoteWorklog | None:
        params = {"issue_id": _issue_id(ticket), "user_id": "me"}
        for item in await self._all_time_entries(credentials, params):
            worklog = _worklog(item)
            if worklog.marker == marker:
                return worklog
        return None

    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        today = datetime.now(UTC).date()
        window_start = today - timedelta(days=self.config.pull_window_days)
        params = {"user_id": "me", "from": window_start.isoformat(), "to": (today + timedelta(days=366)).isoformat()}
        current = {str(item["id"]): item for item in await self._all_time_entries(credentials, params)}
        window = compare_window(
            cursor, {key: (_version(item), date.fromisoformat(item["spent_on"])) for key, item in current.items()},
            window_start,
        )  # fmt: skip
        changed = [_worklog(current[key]) for key in window.changed]
        deleted: list[str] = []
        for key in window.vanished:
            try:
                moved = await self._call("GET", f"/time_entries/{key}.json", credentials, "look up a time entry")
            except NotFound:
                deleted.append(key)
            else:
                changed.append(_worklog(moved["time_entry"]))  # moved out of the window, not deleted
        return PullPage(worklogs=changed, deleted_ids=deleted, cursor=window.cursor)

    # Tickets and webhooks --------------------------------------------------------------------------------------

    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        body = await self._call("GET", f"/issues/{_issue_id(key)}.json", credentials, f"read issue {key}")
        return _ticket(body["issue"])

    async def search_tickets(self, credentials: Credentials, text: str, limit: int) -> list[TicketData]:
        """An issue number is fetched; other text is searched in subjects (`subject=~text`: contains)."""
        text = text.strip()
        if ISSUE_KEY.match(text):
            try:
                return [await self.fetch_ticket(credentials, text)]
            except NotFound:
                return []
        if not text:
            return []
        params = {"subject": f"~{text}", "status_id": "*", "sort": "updated_on:desc", "limit": str(limit)}
        body = await self._call("GET", "/issues.json", credentials, "search issues", params=params)
        return [_ticket(issue) for issue in body["issues"]][:limit]

    async def changed_tickets(self, credentials: Credentials | None, since: datetime) -> list[TicketData]:
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"updated_on": f">={moment}", "status_id": "*", "sort": "updated_on"}
        return [_ticket(issue) for issue in await self._all_pages("/issues.json", "issues", credentials, params)]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.context.secrets.get("webhook_secret")
        signature = headers.get("x-redmine-signature-256", "")
        if not secret or not signature.startswith("sha256="):
            return False
        return same_secret(signature.removeprefix("sha256="), hmac_sha256_hex(secret, body))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        try:
            payload = msgspec.json.decode(body)
            kind = str(payload["type"])
            data = payload.get("data") or {}
        except (msgspec.DecodeError, KeyError, TypeError):
            raise Rejected("not a Redmine webhook body") from None
        # Redmine sends no delivery id and does not retry: a hash of the body tells a replay apart.
        delivery_id = hashlib.sha256(body).hexdigest()
        noun, _, verb = kind.partition(".")
        item = data.get(noun, data) if isinstance(data, dict) else {}
        events: list[WebhookEvent] = []
        if noun == "issue" and verb == "deleted":
            events.append(WebhookEvent(kind=WebhookEventKind.TICKET_DELETED, ticket_key=f"#{item['id']}"))
        elif noun == "issue":
            events.append(WebhookEvent(kind=WebhookEventKind.TICKET_CHANGED, ticket=_ticket(item)))
        elif noun == "time_entry":
            user = item.get("user") or {}
            issue = item.get("issue") or {}
            events.append(
                WebhookEvent(
                    kind=WebhookEventKind.WORKLOG_CHANGED,
                    ticket_key=f"#{issue['id']}" if "id" in issue else None,
                    account_id=str(user["id"]) if "id" in user else None,
                )
            )
        return WebhookDelivery(delivery_id=delivery_id, events=events)

    # Plumbing --------------------------------------------------------------------------------------------------

    async def _entry(self, draft: WorklogDraft, *, update: bool) -> dict[str, Any]:
        # An update without an activity leaves Redmine's as it is (the gateway's did not change).
        activity_id = None if update and draft.activity is None else await self._activity_id(draft.activity)
        entry: dict[str, Any] = {
            "issue_id": _issue_id(draft.ticket),
            "spent_on": draft.day.isoformat(),
            # Redmine stores hours as a float and answers with two decimals; minutes survive the round trip.
            "hours": round(draft.minutes / 60, 6),
            "comments": add_marker(draft.description, draft.marker, max_length=MAX_COMMENTS),
        }
        if activity_id is not None:
            entry["activity_id"] = activity_id
        return entry

    async def _activity_id(self, name: str | None) -> int | None:
        """Redmine's activity for a gateway activity: the configured map, else Redmine's activity of the same name
        (an activity pulled from Redmine goes back as it came), else the default."""
        if name is None:
            return self.config.default_activity_id
        if name in self.config.activity_map:
            return self.config.activity_map[name]
        if self._activities is None:
            body = await self._call("GET", "/enumerations/time_entry_activities.json", None, "read the activities")
            self._activities = {
                item["name"].casefold(): int(item["id"])
                for item in body["time_entry_activities"]
                if item.get("active", True)
            }
        return self._activities.get(name.casefold(), self.config.default_activity_id)

    def _headers(self, credentials: Credentials | None) -> dict[str, str]:
        if self.config.auth == "admin":
            headers = {"X-Redmine-API-Key": self.context.secrets.get("admin_api_key", "")}
            if credentials is not None:
                headers["X-Redmine-Switch-User"] = credentials.access_token
            return headers
        if credentials is None:
            return {}
        if self.config.auth == "oauth2":
            return {"Authorization": f"Bearer {credentials.access_token}"}
        return {"X-Redmine-API-Key": credentials.access_token}

    async def _call(self, method: str, path: str, credentials: Credentials | None, what: str, **kwargs: Any) -> Any:
        try:
            response = await self.context.http.request(
                method, self.context.base_url + path, headers=self._headers(credentials), **kwargs
            )
        except httpx.HTTPError as exc:
            raise Transient(f"{what}: Redmine did not answer ({type(exc).__name__})") from None
        if response.status_code == 412 and self.config.auth == "admin":
            raise AuthRevoked(f"{what}: Redmine knows no active user with this login (412)")
        if response.status_code == 403:
            raise Rejected(f"{what}: the Redmine user has no permission for this (403)")
        if response.is_error:
            raise error_for_response(response, what)
        return response.json() if response.content else None

    async def _all_time_entries(self, credentials: Credentials, params: dict[str, str]) -> list[dict[str, Any]]:
        return await self._all_pages("/time_entries.json", "time_entries", credentials, params)

    async def _all_pages(
        self, path: str, name: str, credentials: Credentials | None, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        limit = max(1, min(MAX_PAGE_SIZE, self.config.page_size))
        while True:
            body = await self._call(
                "GET", path, credentials, f"list {name.replace('_', ' ')}",
                params={**params, "offset": str(offset), "limit": str(limit)},
            )  # fmt: skip
            items += body[name]
            offset += limit
            if offset >= int(body.get("total_count", 0)) or not body[name]:
                return items


def _version(item: dict[str, Any]) -> str:
    """What identifies one state of a time entry: its update time and the fields the gateway syncs.

    updated_on has whole seconds: an edit in the same second as the last read would hide behind it, so the
    content counts too.
    """
    return fingerprint(
        item["updated_on"], item["spent_on"], item["hours"], item.get("comments"), (item.get("issue") or {}).get("id"),
        (item.get("activity") or {}).get("id"),
    )  # fmt: skip


def _issue_id(ticket: str) -> str:
    found = ISSUE_KEY.match(ticket.strip())
    if found is None:
        raise Rejected(f"{ticket!r} is not a Redmine issue number such as #123")
    return found.group(1)


def _worklog(item: dict[str, Any]) -> RemoteWorklog:
    description, marker = split_marker(item.get("comments") or "")
    return RemoteWorklog(
        id=str(item["id"]),
        ticket=f"#{item['issue']['id']}" if item.get("issue") else "",
        day=date.fromisoformat(item["spent_on"]),
        start=None,  # Redmine keeps no start time
        minutes=round(float(item["hours"]) * 60),
        description=description,
        updated_at=datetime.fromisoformat(item["updated_on"].replace("Z", "+00:00")),
        author_id=str(item["user"]["id"]) if item.get("user") else None,
        marker=marker,
        activity=(item.get("activity") or {}).get("name"),
    )


def _ticket(issue: dict[str, Any]) -> TicketData:
    updated = issue.get("updated_on")
    return TicketData(
        key=f"#{issue['id']}",
        summary=issue.get("subject", ""),
        status=(issue.get("status") or {}).get("name"),
        assignee=(issue.get("assigned_to") or {}).get("name"),
        updated_at=datetime.fromisoformat(updated.replace("Z", "+00:00")) if updated else None,
        raw=issue,
    )
