"""The Tasklog connector.

Tasklog's API (see `fake_tasklog.py` for the whole contract):
- OAuth 2.0: `/oauth/authorize` (code, state, PKCE S256), `/oauth/token` (form; access tokens live 5 minutes,
  refresh tokens rotate and a reused one revokes the grant), `/oauth/revoke`;
- `GET /api/v1/me`: the account, with its time zone;
- worklogs: `POST /api/v1/issues/{key}/worklogs`, `PUT|DELETE /api/v1/worklogs/{id}`,
  `GET /api/v1/worklogs?issue=&marker=`, and the change feed `GET /api/v1/worklogs/changes?since=&page_token=`;
  a worklog's `date` and `start` are the user's local wall-clock time, as the gateway keeps them;
- `GET /api/v1/issues/{key}`;
- webhooks signed with `X-Tasklog-Signature: sha256=<hex HMAC-SHA256(webhook secret, body)>`, with a delivery id
  in `X-Tasklog-Delivery`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

import httpx
import msgspec

from gateway.core.connectors import (
    AuthKind,
    AuthorizationStart,
    AuthRevoked,
    Credentials,
    NotFound,
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
    error_for_response,
    hmac_sha256_hex,
    same_secret,
)
from gateway.core.oauth2 import OAuth2Client, OAuth2Connector


class TasklogConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    client_id: str
    page_size: int = 100


class TasklogConnector(OAuth2Connector):
    name = "tasklog"
    config_type = TasklogConfig
    secret_names = ("client_secret", "webhook_secret")

    @property
    def config(self) -> TasklogConfig:
        assert isinstance(self.context.config, TasklogConfig)
        return self.context.config

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
        params = {"limit": str(self.config.page_size)}
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


class TasklogTokenConnector(TasklogConnector):
    """Tasklog with personal access tokens instead of OAuth: the user pastes a token, the gateway checks it."""

    name = "tasklog-token"
    auth_kind = AuthKind.PERSONAL_TOKEN
    secret_names = ("webhook_secret",)

    async def authorization_url(self, state: str) -> AuthorizationStart:
        raise Rejected("tasklog-token connects with a personal token, not through OAuth")

    async def exchange_code(self, code: str, code_verifier: str | None) -> Credentials:
        raise Rejected("tasklog-token connects with a personal token, not through OAuth")

    async def refresh(self, credentials: Credentials) -> Credentials:
        raise AuthRevoked("a personal token does not refresh; the user stores a new one")

    async def revoke(self, credentials: Credentials) -> None:
        return None  # the user revokes personal tokens in Tasklog itself
