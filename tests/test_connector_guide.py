"""The connector author's guide (docs/connectors.md) against the code, in the manner of datasette's
`test_plugin_hooks_are_documented`: every connector method is in it with its exact signature and exercised by the
conformance suite; every public name, data type field, capability and auth kind is in it. (Its end-to-end recipe
runs in tests/api/test_connector_recipe.py; the hooks are checked in tests/core/test_hookspecs.py.)"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

import gateway.connectors
import gateway.testing.conformance
from gateway.connectors import AuthKind, Capability, Connector, WebhookEventKind
from tests.support import signature_of

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "connectors.md").read_text()
# The contract: the abstract methods, the capability methods and the config check.
METHODS = sorted(
    name
    for name, member in vars(Connector).items()
    if inspect.isfunction(member) and not name.startswith("_") and name not in {"supports"}
)
TYPES = [
    gateway.connectors.ConnectorContext,
    gateway.connectors.Credentials,
    gateway.connectors.RemoteAccount,
    gateway.connectors.AuthorizationStart,
    gateway.connectors.WorklogDraft,
    gateway.connectors.RemoteWorklog,
    gateway.connectors.PullPage,
    gateway.connectors.TicketData,
    gateway.connectors.WebhookEvent,
    gateway.connectors.WebhookDelivery,
    gateway.connectors.EntryChange,
    gateway.connectors.OAuth2Client,
    gateway.connectors.OAuth1Consumer,
    gateway.connectors.WindowChanges,
]


def section(heading: str) -> str:
    """The text under a heading (`## X` or `### X`), up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = GUIDE.index(f"\n{heading}\n")
    rest = GUIDE[start + len(heading) + 2 :]
    ends = [m.start() for m in re.finditer(rf"^#{{2,{len(level)}}} ", rest, flags=re.MULTILINE)]
    return rest[: ends[0]] if ends else rest


def fields_of(kind: type) -> list[str]:
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return list(kind.__struct_fields__)
    return [field.name for field in dataclasses.fields(kind)]


def test_the_contract_is_what_the_guide_lists() -> None:
    assert set(METHODS) == {
        "account", "authorization_url", "exchange_code", "refresh", "revoke", "check_config", "create_worklog",
        "update_worklog", "delete_worklog", "find_worklog_by_marker", "pull_worklogs", "fetch_ticket",
        "search_tickets", "changed_tickets", "verify_webhook", "parse_webhook",
    }  # fmt: skip
    assert set(Connector.__abstractmethods__) <= set(METHODS)


@pytest.mark.parametrize("method", METHODS)
def test_every_connector_method_is_in_the_guide_with_its_exact_signature(method: str) -> None:
    assert f"```python\n{signature_of(getattr(Connector, method))}\n```" in section("## Methods")


@pytest.mark.parametrize("method", METHODS)
def test_every_connector_method_is_exercised_by_the_conformance_suite(method: str) -> None:
    suite = inspect.getsource(gateway.testing.conformance)
    assert f"connector.{method}(" in suite


@pytest.mark.parametrize("name", gateway.connectors.__all__)
def test_every_public_name_is_in_the_guide(name: str) -> None:
    assert f"`{name}`" in GUIDE


@pytest.mark.parametrize("kind", TYPES, ids=[kind.__name__ for kind in TYPES])
def test_every_data_type_is_in_the_guide_with_every_field(kind: type) -> None:
    text = section(f"### `{kind.__name__}`")
    missing = [name for name in fields_of(kind) if f"| `{name}` |" not in text]
    assert missing == []


@pytest.mark.parametrize(
    ("enum", "heading"),
    [(Capability, "### `Capability`"), (AuthKind, "### `AuthKind`"), (WebhookEventKind, "### `WebhookEvent`")],
)
def test_every_member_of_the_enumerations_is_in_the_guide(enum: type[Any], heading: str) -> None:
    text = section(heading)
    assert [member.name for member in enum if f"`{member.name}`" not in text] == []


def test_what_the_suite_asks_of_a_fake_is_in_the_guide() -> None:
    text = section("## Testing")
    protocol = gateway.testing.conformance.FakeTracker
    members = [name for name in vars(protocol) if not name.startswith("_")] + list(protocol.__annotations__)
    optional = ["consent", "change_ticket", "ticket_changed_webhook", "signature_header"]
    assert [name for name in [*members, *optional] if f"`{name}" not in text] == []
