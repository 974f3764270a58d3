"""The plugin manager: discovery through entry points, validation, isolation of broken plugins, events."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.connectors import AuthKind, Capability, Connector, EntryChange, TokenConnector, hookimpl
from gateway.core.auth.caller import Caller
from gateway.core.db import create_session_factory
from gateway.core.entries import EntryCreate, create_entry
from gateway.core.enums import UserType
from gateway.core.models import Activity, Customer, Project
from gateway.core.plugins import build_registry
from gateway.core.sync.jobs import after_commit_handler
from gateway.core.users import create_user
from tests.support import Run

try:
    from example_connector.connector import TasklogConnector
except ImportError:  # pragma: no cover - only without `make test`'s install step
    pytest.skip("the example connector is not installed", allow_module_level=True)


class Plugin:
    """A plugin object that returns the given classes from the registration hook."""

    def __init__(self, *classes: Any) -> None:
        self.classes = list(classes)

    @hookimpl
    def gateway_register_connectors(self) -> list[Any]:
        return self.classes


class ShadowTasklog(TasklogConnector):
    """Claims the name of the example connector."""


class Unfinished(Connector[Any]):
    name = "unfinished"
    auth_modes = {"api_key": AuthKind.API_KEY}


class BadName(TasklogConnector):
    name = "Bad Name"


class NoAuthModes(TasklogConnector):
    name = "no-modes"
    auth_modes: Any = {}


class TwoModesNoField(TasklogConnector):
    name = "two-modes"
    auth_modes = {"oauth2": AuthKind.OAUTH2, "token": AuthKind.PERSONAL_TOKEN}


class ModeFieldMissing(TasklogConnector):
    name = "mode-field"
    auth_modes = {"oauth2": AuthKind.OAUTH2, "token": AuthKind.PERSONAL_TOKEN}
    auth_mode_field = "auth"


class SearchUndeclared(TasklogConnector):
    name = "search-undeclared"
    capabilities = TasklogConnector.capabilities - {Capability.SEARCH}


class WebhooksWithoutMethods(TokenConnector[Any]):
    name = "hookless"
    capabilities = frozenset({Capability.WEBHOOKS})
    account = create_worklog = update_worklog = delete_worklog = TasklogConnector.account
    find_worklog_by_marker = pull_worklogs = fetch_ticket = TasklogConnector.account


def test_installed_plugins_are_found_through_the_entry_point_group() -> None:
    registry = build_registry()
    assert registry.problems == []
    info = registry.require("tasklog")
    assert info.connector is TasklogConnector
    assert (info.distribution, info.version, info.auth_modes) == (
        "timetracker-gateway-example-connector",
        "1.0.0",
        {"oauth2": AuthKind.OAUTH2},
    )
    assert registry.require("tasklog-token").auth_modes == {"personal_token": AuthKind.PERSONAL_TOKEN}
    assert Capability.REFRESH in info.capabilities
    assert Capability.REFRESH not in registry.require("tasklog-token").capabilities


def test_the_config_struct_comes_from_the_type_argument() -> None:
    from example_connector.connector import TasklogConfig, TasklogTokenConfig, TasklogTokenConnector

    assert TasklogConnector.config_type is TasklogConfig
    assert TasklogTokenConnector.config_type is TasklogTokenConfig
    assert ShadowTasklog.config_type is TasklogConfig  # inherited


def test_a_name_claimed_twice_is_refused_for_both_with_a_clear_report() -> None:
    registry = build_registry(plugins={"shadow": Plugin(ShadowTasklog)})
    assert registry.get("tasklog") is None
    assert registry.get("tasklog-token") is not None  # the rest keep working
    reports = {problem.plugin: problem.problem for problem in registry.problems}
    assert set(reports) == {"tasklog", "shadow"}
    assert "'tasklog' is claimed by tasklog (timetracker-gateway-example-connector) and shadow" in reports["shadow"]


@pytest.mark.parametrize(
    ("plugin", "problem"),
    [
        (Plugin(Unfinished), "Unfinished does not implement: account, authorization_url"),
        (Plugin(BadName), "BadName.name must be lower case"),
        (Plugin("not a class"), "returned 'not a class', which is not a subclass of"),
        (Plugin(NoAuthModes), "NoAuthModes.auth_modes must map each auth mode's name to an AuthKind"),
        (Plugin(TwoModesNoField), "TwoModesNoField has several auth_modes: auth_mode_field must name the config"),
        (Plugin(ModeFieldMissing), "ModeFieldMissing.auth_mode_field names 'auth', which its config struct does not"),
        (Plugin(SearchUndeclared), "SearchUndeclared implements search_tickets but does not declare Capability.SEARCH"),
        (Plugin(WebhooksWithoutMethods), "declares Capability.WEBHOOKS but does not implement verify_webhook, parse"),
    ],
    ids=[
        "abstract",
        "name",
        "not-a-class",
        "no-modes",
        "modes-without-field",
        "unknown-field",
        "undeclared",
        "missing",
    ],
)
def test_invalid_connectors_are_reported_and_skipped(plugin: Plugin, problem: str) -> None:
    registry = build_registry(load_entry_points=False, plugins={"odd": plugin})
    assert registry.connectors == {}
    [report] = registry.problems
    assert report.plugin == "odd"
    assert problem in report.problem


class Misspelt:
    @hookimpl
    def gateway_register_conectors(self) -> list[Any]:
        return []


class NotAList:
    @hookimpl
    def gateway_register_connectors(self) -> Any:
        return TasklogConnector


def test_a_misspelt_hook_and_a_wrong_return_are_reported() -> None:
    registry = build_registry(load_entry_points=False, plugins={"typo": Misspelt(), "single": NotAList()})
    reports = {problem.plugin: problem.problem for problem in registry.problems}
    assert "unknown hook 'gateway_register_conectors'" in reports["typo"]
    assert "must return a list of connector classes" in reports["single"]


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...]]] = []

    async def enqueue(self, name: str, *args: Any) -> None:
        self.jobs.append((name, args))

    def enqueue_soon(self, name: str, *args: Any) -> None:
        self.jobs.append((name, args))


class Recorder:
    def __init__(self) -> None:
        self.changes: list[EntryChange] = []

    @hookimpl
    def gateway_entry_committed(self, change: EntryChange) -> None:
        self.changes.append(change)


class Exploding:
    @hookimpl
    def gateway_entry_committed(self, change: EntryChange) -> None:
        raise RuntimeError("this plugin is broken")


async def test_plugins_hear_of_entry_changes_after_commit_only(engine: AsyncEngine) -> None:
    recorder = Recorder()
    registry = build_registry(load_entry_points=False, plugins={"boom": Exploding(), "recorder": recorder})
    factory = create_session_factory(engine, on_commit=after_commit_handler(registry, RecordingQueue()))
    async with factory() as session:
        user = await create_user(session, "ada", password=None, user_type=UserType.DEV)
        customer = Customer(name="C", global_=True)
        session.add(customer)
        await session.flush()
        project = Project(name="P", customer_id=customer.id)
        activity = Activity(name="A")
        session.add_all([project, activity])
        await session.commit()
        caller = Caller(user_id=user.id, username="ada", type=UserType.DEV)
        booking = EntryCreate(
            day=date(2026, 11, 24), start="09:00", end="10:00", project_id=project.id, activity_id=activity.id
        )

        await create_entry(session, caller, booking)
        assert recorder.changes == []  # not before the commit
        await session.rollback()
        assert recorder.changes == []  # nor after a rollback

        entry = await create_entry(session, caller, booking)
        await session.commit()
    assert [(c.action, c.entry_id, c.duration) for c in recorder.changes] == [("create", entry.id, 60)]


def test_plugins_list_reports_broken_and_clashing_plugins(run_gateway: Run, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_distribution(site, "broken-plugin", "broken = broken_plugin_module", "raise ImportError('needs libfoo')")
    _fake_distribution(
        site,
        "shadow-plugin",
        "shadow = shadow_plugin_module",
        textwrap.dedent(
            """
            from example_connector.connector import TasklogConnector
            from gateway.connectors import hookimpl

            class Shadow(TasklogConnector):
                pass

            @hookimpl
            def gateway_register_connectors():
                return [Shadow]
            """
        ),
    )
    result = run_gateway("plugins", "list", PYTHONPATH=str(site))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any("tasklog-token" in line and "ok" in line for line in lines)
    assert any("broken" in line and "failed: failed to import: ImportError: needs libfoo" in line for line in lines)
    assert any("shadow" in line and "claimed by" in line for line in lines)
    assert "Traceback" not in result.stdout + result.stderr


def _fake_distribution(site: Path, name: str, entry_point: str, module_source: str) -> None:
    """An installed distribution as importlib.metadata sees one: a .dist-info folder and its module."""
    module = entry_point.split("=")[1].strip()
    dist_info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[timetracker_gateway.connectors]\n{entry_point}\n")
    (site / f"{module}.py").write_text(module_source)
