"""GitLab webhook deliveries: the secret token (`X-Gitlab-Token`) and Standard Webhooks signatures, each with
wrong secrets, replays and stale timestamps; what Issue, Note and other hooks say, on real captured payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.connectors import Rejected, WebhookEventKind
from gateway.plugins.gitlab.connector import GitLabConnector
from gateway.plugins.gitlab.webhooks import sign
from gateway.testing.conformance import lower_case
from tests.plugins.gitlab.conftest import TICKET, GitLabSetup

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def by_token(gitlab: GitLabSetup, http: httpx.AsyncClient) -> GitLabConnector:
    return gitlab.connector(http, {"webhook_secret": gitlab.fake.webhook_secret})


@pytest.fixture
def by_signature(gitlab: GitLabSetup, http: httpx.AsyncClient) -> GitLabConnector:
    return gitlab.connector(http, {"webhook_secret": "unused", "webhook_signing_token": gitlab.fake.signing_token})


def issue_hook(gitlab: GitLabSetup, **options: object) -> tuple[dict[str, str], bytes]:
    fake = gitlab.fake
    headers, body = fake.hook("Issue Hook", fake.issue_payload(fake.issuable(TICKET), gitlab.user), **options)  # type: ignore[arg-type]
    return lower_case(headers), body


def test_the_secret_token_is_compared_as_it_is(gitlab: GitLabSetup, by_token: GitLabConnector) -> None:
    assert by_token.verify_webhook(*issue_hook(gitlab, token=gitlab.fake.webhook_secret))
    assert not by_token.verify_webhook(*issue_hook(gitlab, token="guessed"))
    assert not by_token.verify_webhook(*issue_hook(gitlab, token=gitlab.fake.webhook_secret + " "))
    assert not by_token.verify_webhook(*issue_hook(gitlab, token=""))
    assert not by_token.verify_webhook(*issue_hook(gitlab))  # no token at all


def test_without_any_secret_every_delivery_is_refused(gitlab: GitLabSetup, http: httpx.AsyncClient) -> None:
    connector = gitlab.connector(http, {})
    assert not connector.verify_webhook(*issue_hook(gitlab, token=""))
    assert not connector.verify_webhook(*issue_hook(gitlab, token="anything"))


def test_a_signed_delivery_verifies_and_a_forged_one_does_not(
    gitlab: GitLabSetup, by_signature: GitLabConnector
) -> None:
    fake = gitlab.fake
    headers, body = issue_hook(gitlab, signing_token=fake.signing_token)
    assert by_signature.verify_webhook(headers, body)
    assert not by_signature.verify_webhook(headers, body.replace(b"Sync", b"Sunk"))  # tampered body
    assert not by_signature.verify_webhook(*issue_hook(gitlab, signing_token="whsec_" + "A" * 44))  # wrong key
    # With a signing token configured, the plain secret token is not enough.
    assert not by_signature.verify_webhook(*issue_hook(gitlab, token=fake.webhook_secret))
    # The id and the timestamp are signed too.
    assert not by_signature.verify_webhook({**headers, "webhook-id": "another-id"}, body)
    assert not by_signature.verify_webhook(
        {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}, body
    )
    # Several signatures (a key being rotated): one valid one is enough.
    rotated = {**headers, "webhook-signature": "v1,bm90LXRoaXMtb25l " + headers["webhook-signature"]}
    assert by_signature.verify_webhook(rotated, body)
    assert not by_signature.verify_webhook({**headers, "webhook-signature": "v1,bm90LXRoaXMtb25l"}, body)


def test_a_stale_or_future_timestamp_is_refused(gitlab: GitLabSetup, by_signature: GitLabConnector) -> None:
    token = gitlab.fake.signing_token
    now = int(datetime.now(UTC).timestamp())
    assert by_signature.verify_webhook(*issue_hook(gitlab, signing_token=token, timestamp=now - 240))
    assert not by_signature.verify_webhook(*issue_hook(gitlab, signing_token=token, timestamp=now - 360))
    assert not by_signature.verify_webhook(*issue_hook(gitlab, signing_token=token, timestamp=now + 360))
    headers, body = issue_hook(gitlab, signing_token=token)
    assert not by_signature.verify_webhook({**headers, "webhook-timestamp": "yesterday"}, body)


def test_a_signing_token_without_the_whsec_prefix_is_the_key_itself(
    gitlab: GitLabSetup, http: httpx.AsyncClient
) -> None:
    connector = gitlab.connector(http, {"webhook_signing_token": "plain-signing-token"})
    headers, body = issue_hook(gitlab, signing_token="plain-signing-token")
    assert connector.verify_webhook(headers, body)
    stamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == sign("plain-signing-token", headers["webhook-id"], stamp, body)


def test_a_retried_delivery_keeps_its_id(gitlab: GitLabSetup, by_signature: GitLabConnector) -> None:
    token = gitlab.fake.signing_token
    first = issue_hook(gitlab, signing_token=token, idempotency_key="6e5f3a1c-retry")
    later = int((datetime.now(UTC) + timedelta(seconds=30)).timestamp())
    retry = issue_hook(gitlab, signing_token=token, idempotency_key="6e5f3a1c-retry", timestamp=later)
    assert first[0]["x-gitlab-event-uuid"] != retry[0]["x-gitlab-event-uuid"]
    assert by_signature.parse_webhook(*first).delivery_id == by_signature.parse_webhook(*retry).delivery_id
    assert by_signature.parse_webhook(*first).delivery_id == "6e5f3a1c-retry"


def test_an_issue_hook_updates_the_ticket_and_asks_the_actors_link_to_sync(
    gitlab: GitLabSetup, by_token: GitLabConnector
) -> None:
    issue = gitlab.fake.issuable(TICKET)
    issue.title, issue.state, issue.labels = "Renamed", "closed", ["backend", "done"]
    delivery = by_token.parse_webhook(*issue_hook(gitlab, token=gitlab.fake.webhook_secret))
    changed, sync = delivery.events
    assert changed.kind is WebhookEventKind.TICKET_CHANGED
    assert changed.ticket is not None
    assert (changed.ticket.key, changed.ticket.summary, changed.ticket.status) == (TICKET, "Renamed", "closed")
    assert changed.ticket.raw["labels"] == ["backend", "done"]
    assert changed.ticket.updated_at is not None
    assert (sync.kind, sync.ticket_key, sync.account_id) == (
        WebhookEventKind.WORKLOG_CHANGED,
        TICKET,
        str(gitlab.user.id),
    )


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_real_issue_hook_payloads_are_read(by_token: GitLabConnector, name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    payload = json.loads(body)
    delivery = by_token.parse_webhook({"x-gitlab-event": "Issue Hook"}, body)
    assert delivery.delivery_id.startswith("sha256:")  # no Idempotency-Key in a captured body: its hash
    [changed, sync] = delivery.events
    assert changed.ticket is not None
    path, iid = payload["project"]["path_with_namespace"], payload["object_attributes"]["iid"]
    assert changed.ticket.key == f"{path.upper()}#{iid}"
    assert changed.ticket.summary == payload["object_attributes"]["title"]
    assert changed.ticket.updated_at is not None
    user_id = payload["user"].get("id")
    assert sync.account_id == (str(user_id) if user_id is not None else None)  # no id: every linked user syncs


def test_note_hooks_name_their_issue_or_merge_request_and_other_hooks_are_ignored(
    gitlab: GitLabSetup, by_token: GitLabConnector
) -> None:
    fake = gitlab.fake
    issue = fake.issue_payload(fake.issuable(TICKET), gitlab.user)
    note = {**issue, "object_kind": "note", "event_type": "note", "issue": issue["object_attributes"],
            "object_attributes": {"id": 7, "note": "/spend 1h", "noteable_type": "Issue"}}  # fmt: skip
    delivery = by_token.parse_webhook(*fake.hook("Note Hook", note, token=fake.webhook_secret))
    assert [event.ticket_key for event in delivery.events] == [TICKET, TICKET]
    merge_request = fake.issue_payload(fake.issuable("acme/platform/web!5"), gitlab.user)
    on_mr = {**note, "issue": None, "merge_request": merge_request["object_attributes"]}
    delivery = by_token.parse_webhook(*fake.hook("Note Hook", on_mr, token=fake.webhook_secret))
    assert delivery.events[0].ticket_key == "ACME/PLATFORM/WEB!5"
    push = {"object_kind": "push", "project": {"path_with_namespace": "acme/platform/web"}, "commits": []}
    assert by_token.parse_webhook(*fake.hook("Push Hook", push, token=fake.webhook_secret)).events == []
    with pytest.raises(Rejected):
        by_token.parse_webhook({}, b"<html>not json</html>")
