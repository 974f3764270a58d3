"""GitLab webhook deliveries: who sent them, and what they say.

Two ways a delivery proves it comes from GitLab, both checked in constant time:
- `X-Gitlab-Token`: the hook's secret token, verbatim (secret `webhook_secret`). It does not cover the body.
- Standard Webhooks signing (newer GitLab, secret `webhook_signing_token`): `webhook-id` (equal to
  `Idempotency-Key`), `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">`, possibly several space-separated. A timestamp more than 5 minutes from our clock
  is refused (a replayed delivery). With a signing token configured, a delivery must be signed.

`Idempotency-Key` is the same on every retry of one delivery: it is the delivery id the gateway de-duplicates
on (then `webhook-id`, `X-Gitlab-Event-UUID`, and as a last resort a hash of the body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.connectors import TicketData, WebhookEvent, WebhookEventKind, same_secret
from gateway.plugins.gitlab.keys import canonical

TOLERANCE_SECONDS = 300


def signing_key(token: str) -> bytes:
    """A Standard Webhooks secret is `whsec_<base64 key>`; any other token is used as it is."""
    if token.startswith("whsec_"):
        try:
            return base64.b64decode(token.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            return token.encode()
    return token.encode()


def sign(token: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value GitLab sends for this delivery."""
    digest = hmac.new(signing_key(token), f"{delivery_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_valid(headers: Mapping[str, str], body: bytes, token: str, *, now: datetime | None = None) -> bool:
    delivery_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not delivery_id or not stamp.isdigit() or not given:
        return False
    moment = (now or datetime.now(UTC)).timestamp()
    if abs(moment - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign(token, delivery_id, int(stamp), body)
    # Compare every offered signature (key rotation sends several), each in constant time.
    return any([same_secret(candidate, expected) for candidate in given.split()])


def token_valid(headers: Mapping[str, str], secret: str) -> bool:
    return same_secret(headers.get("x-gitlab-token"), secret)


def delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    for name in ("idempotency-key", "webhook-id", "x-gitlab-event-uuid"):
        if headers.get(name):
            return headers[name]
    return "sha256:" + hashlib.sha256(body).hexdigest()


def events(payload: dict[str, Any]) -> list[WebhookEvent]:
    """Issue, work item, merge request and note hooks: the ticket as the hook shows it, and a sync of the acting
    user's link (time logged with `/spend` or in the sidebar arrives as one of these, and timelogs written
    through GraphQL may fire nothing at all: the pull's polling stays the baseline)."""
    kind = payload.get("object_kind")
    project = payload.get("project") or {}
    path = project.get("path_with_namespace")
    if not path:
        return []
    ticket: TicketData | None = None
    if kind in ("issue", "work_item", "merge_request"):
        ticket = _ticket(path, payload.get("object_attributes") or {}, payload, kind == "merge_request")
    elif kind == "note":
        if payload.get("issue"):
            ticket = _ticket(path, payload["issue"], payload, False)
        elif payload.get("merge_request"):
            ticket = _ticket(path, payload["merge_request"], payload, True)
    if ticket is None:
        return []
    user = payload.get("user") or {}
    account = str(user["id"]) if user.get("id") is not None else None
    return [
        WebhookEvent(kind=WebhookEventKind.TICKET_CHANGED, ticket_key=ticket.key, ticket=ticket),
        WebhookEvent(kind=WebhookEventKind.WORKLOG_CHANGED, ticket_key=ticket.key, account_id=account),
    ]


def _ticket(path: str, item: dict[str, Any], payload: dict[str, Any], merge_request: bool) -> TicketData | None:
    if item.get("iid") is None:
        return None
    labels = payload.get("labels") if payload.get("labels") is not None else item.get("labels")
    assignees = payload.get("assignees") or []
    assignee = (assignees[0] if assignees else payload.get("assignee")) or {}
    status = item.get("state")
    if isinstance(item.get("status"), dict) and item["status"].get("name"):
        status = item["status"]["name"]  # work items with a custom status
    return TicketData(
        key=canonical(path, merge_request, item["iid"]),
        summary=str(item.get("title") or ""),
        status=status,
        assignee=assignee.get("name"),
        updated_at=parse_time(item.get("updated_at")),
        raw={
            "labels": [label.get("title") if isinstance(label, dict) else label for label in labels or []],
            "state": item.get("state"),
            "web_url": item.get("url") or item.get("web_url"),
            "confidential": bool(item.get("confidential")),
        },
    )


def parse_time(value: Any) -> datetime | None:
    """GitLab's hook timestamps: ISO 8601 (`2026-05-28T06:17:50.386Z`) or the older `2016-08-18 17:56:30 UTC`."""
    if not value:
        return None
    text = str(value).strip()
    if text.endswith(" UTC"):
        text = text.removesuffix(" UTC").replace(" ", "T") + "+00:00"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
