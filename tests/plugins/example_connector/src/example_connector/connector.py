"""The Tasklog connector.

Tasklog's API (see `fake_tasklog.py` for the whole contract):
- OAuth 2.0: `/oauth/authorize` (code, state, PKCE S256), `/oauth/token` (form; access tokens live 5 minutes,
  refresh tokens rotate and a reused one revokes the grant), `/oauth/revoke`;
- `GET /api/v1/me`: the account, with its time zone;
- worklogs: `POST /api/v1/issues/{key}/worklogs`, `PUT|DELETE /api/v1/worklogs/{id}`,
  `GET /api/v1/worklogs?issue=&marker=`, and the change feed `GET /api/v1/worklogs/changes?since=&page_token=`;
  a worklog's `date` and `start` are the user's local wall-clock time, as the gateway keeps them;
- `GET /api/v1/issues/{key}`, and `GET /api/v1/issues?q=&updated_since=&limit=&page_token=` to search issues or
  list those changed since a time;
- webhooks signed with `X-Tasklog-Signature: sha256=<hex HMAC-SHA256(webhook secret, body)>`, with a delivery id
  in `X-Tasklog-Delivery`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

import httpx
import msgspec

from gateway.connectors import (
    Capability,
    ConnectorContext,
    Credentials,
    NotFound,
    OAuth2Client,
    OAuth2Connector,
    PullPage,
    Rejected,
    RemoteAccount,
    RemoteWorklog,
    TicketData,
    TokenConnector,
    Transient,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventKind,
    WorklogDraft,
    error_for_response,
    hmac_sha256_hex,
    same_secret,
)

PageSize = Annotated[int, msgspec.Meta(ge=1, le=500, description="Worklogs per page of the change feed")]
CAPABILITIES = frozenset({Capability.WEBHOOKS, Capability.DELETION_FEED, Capability.SEARCH, Capability.CHANGED_TICKETS})


class TasklogConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A Tasklog ticket system connected through OAuth 2.0: the app registered in Tasklog."""

    client_id: Annotated[str, msgspec.Meta(min_length=1, description="The OAuth app's client id")]
    page_size: PageSize = 100


class TasklogTokenConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A Tasklog ticket system whose users paste personal tokens."""

    page_size: PageSize = 100


class TasklogApi:
    """What both Tasklog connectors share: everything but how a user connects."""

    name: str
    context: ConnectorContext[TasklogConfig] | ConnectorContext[TasklogTokenConfig]

    async def account(self, credentials: Credentials) -> RemoteAccount:
        body = await self._call("GET", "/api/v1/me", credentials, "read the account")
        return RemoteAccount(id=str(body["id"]), name=body["name"], timezone=body.get("timezone"))

    async def create_worklog(self, credentials: Credentials, draft: WorklogDraft) -> RemoteWorklog:
        body = await self._call(
            "POST", f"/api/v1/issues/{draft.ticket}/worklogs", credentials, "create a worklog", json=_payload(draft)
        )
        return _worklog(body)

    async def update_worklog(self, credentials: Credentials, worklog_id: str, draft: WorklogDraft) -> RemoteWorklog:
        body = await self._call(
            "PUT", f"/api/v1/worklogs/{worklog_id}", credentials, "update a worklog", json=_payload(draft)
        )
        return _worklog(body)

    async def delete_worklog(self, credentials: Credentials, ticket: str, worklog_id: str) -> None:
        try:
            await self._call("DELETE", f"/api/v1/worklogs/{worklog_id}", credentials, "delete a worklog")
        except NotFound:
            return  # already gone: the goal is reached

    async def find_worklog_by_marker(self, credentials: Credentials, ticket: str, marker: str) -> RemoteWorklog | None:
        body = await self._call(
            "GET", "/api/v1/worklogs", credentials, "look up a worklog", params={"issue": ticket, "marker": marker}
        )
        found = [_worklog(item) for item in body["worklogs"]]
        return found[0] if found else None

    async def pull_worklogs(self, credentials: Credentials, cursor: str | None, page: str | None) -> PullPage:
        params = {"limit": str(self.context.config.page_size)}
        if cursor:
            params["since"] = cursor
        if page:
            params["page_token"] = page
        body = await self._call("GET", "/api/v1/worklogs/changes", credentials, "read changed worklogs", params=params)
        return PullPage(
            worklogs=[_worklog(item) for item in body["worklogs"]],
            deleted_ids=[str(item) for item in body["deleted"]],
            next_page=body.get("next_page_token"),
            cursor=body["until"],
        )

    async def fetch_ticket(self, credentials: Credentials | None, key: str) -> TicketData:
        body = await self._call("GET", f"/api/v1/issues/{key}", credentials, f"read issue {key}")
        return _ticket(body)

    async def search_tickets(self, credentials: Credentials, text: str, limit: int) -> list[TicketData]:
        body = await self._call(
            "GET", "/api/v1/issues", credentials, "search issues", params={"q": text, "limit": str(limit)}
        )
        return [_ticket(item) for item in body["issues"]][:limit]

    async def changed_tickets(self, credentials: Credentials | None, since: datetime) -> list[TicketData]:
        params = {"updated_since": since.astimezone(UTC).isoformat(), "limit": "100"}
        tickets: list[TicketData] = []
        while True:
            body = await self._call("GET", "/api/v1/issues", credentials, "list changed issues", params=params)
            tickets += [_ticket(item) for item in body["issues"]]
            if not body.get("next_page_token"):
                return tickets
            params["page_token"] = body["next_page_token"]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.context.secrets.get("webhook_secret")
        signature = headers.get("x-tasklog-signature", "")
        if not secret or not signature.startswith("sha256="):
            return False
        return same_secret(signature.removeprefix("sha256="), hmac_sha256_hex(secret, body))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        delivery_id = headers.get("x-tasklog-delivery")
        try:
            payload = msgspec.json.decode(body)
            kind = payload["event"]
        except (msgspec.DecodeError, KeyError, TypeError):
            raise Rejected("not a Tasklog webhook body") from None
        if not delivery_id:
            raise Rejected("the X-Tasklog-Delivery header is missing")
        if kind == "issue.updated":
            events = [WebhookEvent(kind=WebhookEventKind.TICKET_CHANGED, ticket=_ticket(payload["issue"]))]
        elif kind == "issue.deleted":
            events = [WebhookEvent(kind=WebhookEventKind.TICKET_DELETED, ticket_key=payload["issue"]["key"])]
        elif kind.startswith("worklog."):
            worklog = payload["worklog"]
            events = [
                WebhookEvent(
                    kind=WebhookEventKind.WORKLOG_CHANGED,
                    ticket_key=worklog["issue"],
                    account_id=str(worklog["author"]),
                )
            ]
        else:
            events = []
        return WebhookDelivery(delivery_id=delivery_id, events=events)

    async def _call(self, method: str, path: str, credentials: Credentials | None, what: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {credentials.access_token}"} if credentials else {}
        try:
            response = await self.context.http.request(method, self.context.base_url + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Transient(f"{what}: Tasklog did not answer ({type(exc).__name__})") from None
        if response.is_error:
            raise error_for_response(response, what)
        return response.json() if response.content else None


def _payload(draft: WorklogDraft) -> dict[str, Any]:
    return {
        "date": draft.day.isoformat(),
        "start": draft.start.strftime("%H:%M"),
        "minutes": draft.minutes,
        "note": draft.description,
        "marker": draft.marker,
    }


def _worklog(body: dict[str, Any]) -> RemoteWorklog:
    return RemoteWorklog(
        id=str(body["id"]),
        ticket=body["issue"],
        day=date.fromisoformat(body["date"]),
        start=time.fromisoformat(body["start"]) if body.get("start") else None,
        minutes=int(body["minutes"]),
        description=body.get("note") or "",
        updated_at=datetime.fromisoformat(body["updated_at"]),
        author_id=str(body["author"]),
        marker=body.get("marker"),
        ticket_id=body.get("issue_id"),
    )


def _ticket(body: dict[str, Any]) -> TicketData:
    return TicketData(
        key=body["key"],
        summary=body["title"],
        status=body.get("state"),
        assignee=body.get("assignee"),
        updated_at=datetime.fromisoformat(body["updated_at"]),
        raw=body,
    )


class TasklogConnector(TasklogApi, OAuth2Connector[TasklogConfig]):
    """Tasklog through OAuth 2.0, with PKCE and rotating refresh tokens."""

    name = "tasklog"
    secret_names = ("client_secret", "webhook_secret")
    capabilities = CAPABILITIES | {Capability.REFRESH}

    def oauth2_client(self) -> OAuth2Client:
        base = self.context.base_url
        return OAuth2Client(
            authorize_url=f"{base}/oauth/authorize",
            token_url=f"{base}/oauth/token",
            revoke_url=f"{base}/oauth/revoke",
            client_id=self.config.client_id,
            client_secret=self.context.secrets.get("client_secret"),
            redirect_uri=self.context.redirect_uri or "",
            scopes=("worklogs", "issues"),
        )


class TasklogTokenConnector(TasklogApi, TokenConnector[TasklogTokenConfig]):
    """Tasklog with personal access tokens instead of OAuth: the user pastes a token, the gateway checks it."""

    name = "tasklog-token"
    secret_names = ("webhook_secret",)
    capabilities = CAPABILITIES
