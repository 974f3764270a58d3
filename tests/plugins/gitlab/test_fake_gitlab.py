"""The fake GitLab is strict where GitLab is: requests outside GitLab's schema fail the test, and it refuses what
GitLab refuses (a zero or unreadable duration, a future spentAt, someone else's timelog, a query without filters)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.plugins.gitlab import graphql
from tests.plugins.gitlab.conftest import TICKET
from tests.plugins.gitlab.fake_gitlab import NOT_AVAILABLE, FakeGitLab, User


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab().serve() as server:
        yield server


def ask(fake: FakeGitLab, user: User, query: str, **variables: Any) -> dict[str, Any]:
    answer = httpx.post(f"{fake.base_url}/api/graphql", json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {user.token}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def setup(fake: FakeGitLab) -> tuple[User, User, str]:
    ann, bob = fake.add_user("ann"), fake.add_user("bob")
    project = fake.add_project("acme/platform/web", [(ann, "developer"), (bob, "developer")])
    issue = fake.add_issue(project, 1, "An issue")
    return ann, bob, issue.gid


def create(fake: FakeGitLab, user: User, issuable: str, spent: str, at: datetime | None = None) -> dict[str, Any]:
    variables = {"issuableId": issuable, "timeSpent": spent, "summary": "s", "spentAt": at and at.isoformat()}
    return ask(fake, user, graphql.CREATE_TIMELOG, **variables)["data"]["timelogCreate"]


def test_the_fake_refuses_what_gitlab_refuses(fake: FakeGitLab) -> None:
    ann, bob, issuable = setup(fake)
    assert create(fake, ann, issuable, "0h")["errors"] == ["Time spent can't be zero."]
    assert "formatted correctly" in create(fake, ann, issuable, "a while")["errors"][0]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert create(fake, ann, issuable, "1h", future)["errors"] == ["Spent at can't be a future date and time."]
    made = create(fake, bob, issuable, "1h 30m")
    assert (made["errors"], made["timelog"]["timeSpent"]) == ([], 5400)
    refused = ask(fake, ann, graphql.DELETE_TIMELOG, id=made["timelog"]["id"])  # Bob's timelog
    assert refused["errors"][0]["message"] == NOT_AVAILABLE
    assert len(fake.timelogs) == 1
    unfiltered = ask(fake, ann, "query { timelogs(first: 5) { nodes { id } } }")
    assert unfiltered["errors"][0]["message"].startswith("Provide at least one argument")
    assert fake.violations == []
    assert fake.total_seconds(TICKET) == 5400


def test_a_request_outside_gitlabs_schema_is_a_violation(fake: FakeGitLab) -> None:
    ann, _bob, issuable = setup(fake)
    update = 'mutation { timelogUpdate(input: {id: "gid://gitlab/Timelog/1"}) { errors } }'
    assert "timelogUpdate" in ask(fake, ann, update)["errors"][0]["message"]
    integer = ask(fake, ann, graphql.CREATE_TIMELOG.replace("$timeSpent: String!", "$timeSpent: Int!"),
                  issuableId=issuable, timeSpent=3600, summary="s")  # fmt: skip
    assert integer["errors"]
    assert len(fake.violations) == 2
    fake.violations.clear()
    # GitLab's own sample operations validate.
    assert ask(fake, ann, graphql.CURRENT_USER)["data"]["currentUser"]["username"] == "ann"
    assert fake.violations == []
