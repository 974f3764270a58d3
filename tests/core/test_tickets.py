"""Ticket keys: Jira's ABC-123, Redmine's #123, GitLab's group/project#12 and !3, and project prefixes that are
GitLab project paths (a bare #12 typed on such a project is stored as the full key)."""

from __future__ import annotations

import pytest

from gateway.core.errors import InvalidInput
from gateway.core.tickets import (
    PREFIXED_KEY,
    TICKET_KEY,
    TICKET_PREFIX,
    check_ticket_for_project,
    expand_bare_key,
    normalise_ticket,
    prefix_pattern,
)


@pytest.mark.parametrize(
    ("typed", "prefixes", "stored"),
    [
        ("abc-1", [], "ABC-1"),
        (" 123 ", [], "#123"),
        ("#123", ["GW"], "#123"),
        ("#12", ["ACME/PLATFORM/WEB"], "ACME/PLATFORM/WEB#12"),
        ("!3", ["ACME/PLATFORM/WEB"], "ACME/PLATFORM/WEB!3"),
        ("12", ["ACME/PLATFORM/WEB"], "ACME/PLATFORM/WEB#12"),
        ("acme/platform/web#12", ["ACME/PLATFORM/WEB"], "ACME/PLATFORM/WEB#12"),
        ("#12", ["ACME/WEB", "ACME/API"], "#12"),  # two projects: a bare number names neither
    ],
)
def test_keys_are_stored_in_one_normal_form(typed: str, prefixes: list[str], stored: str) -> None:
    assert normalise_ticket(typed, prefixes) == stored


def test_gitlab_keys_and_path_prefixes() -> None:
    assert TICKET_KEY.match("ACME/PLATFORM/WEB#12")
    assert TICKET_KEY.match("ACME/PLATFORM/WEB!3")
    assert TICKET_KEY.match("MY-GROUP/MY.PROJECT#1")
    assert not TICKET_KEY.match("!3")
    assert not TICKET_KEY.match("ABC#12")
    assert TICKET_PREFIX.match("acme/platform/web")
    assert not TICKET_PREFIX.match("acme platform")
    prefixes = {key: (m.group(1) if (m := PREFIXED_KEY.match(key)) else None)
                for key in ("ABC-12", "ACME/WEB#12", "ACME/WEB!3", "ABC#12", "ACME/WEB-12", "#12")}  # fmt: skip
    assert prefixes == {"ABC-12": "ABC", "ACME/WEB#12": "ACME/WEB", "ACME/WEB!3": "ACME/WEB", "ABC#12": None,
                        "ACME/WEB-12": None, "#12": None}  # fmt: skip
    assert prefix_pattern("ACME/WEB") == ["ACME/WEB#", "ACME/WEB!"]
    assert prefix_pattern("GW") == ["GW-"]
    assert expand_bare_key("#12", ["ACME/WEB"]) == "ACME/WEB#12"
    assert expand_bare_key("12", ["ACME/WEB"]) == "12"  # a number in a search may be words too


def test_a_path_prefix_takes_only_its_projects_keys() -> None:
    check_ticket_for_project("ACME/WEB#12", ["ACME/WEB"], [])
    check_ticket_for_project("ACME/WEB!3", ["ACME/WEB", "GW"], [])
    check_ticket_for_project("GW-1", ["ACME/WEB", "GW"], [])
    with pytest.raises(InvalidInput, match=r"allowed: ACME/WEB#…"):
        check_ticket_for_project("ACME/API#12", ["ACME/WEB"], [])
    with pytest.raises(InvalidInput):
        check_ticket_for_project("ACME/WEB/SUB#12", ["ACME/WEB"], [])
