"""The plugin contract is documented and tested: every hook in hookspecs.py is in the README's connector guide
and is exercised by at least one test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from gateway.core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("gateway_")]


def test_there_are_hooks() -> None:
    assert HOOKS == ["gateway_entry_committed", "gateway_register_connectors"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_saying_when_it_is_called(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_in_the_connector_guide(hook: str) -> None:
    readme = (ROOT / "README.md").read_text()
    guide = readme.split("## Writing a connector", 1)[1].split("\n## ", 1)[0]
    assert f"`{hook}(" in guide


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook: str) -> None:
    tests = [path for path in (ROOT / "tests").rglob("test_*.py") if path.name != Path(__file__).name]
    assert any(hook in path.read_text() for path in tests)
