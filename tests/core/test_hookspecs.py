"""The plugin contract is documented and tested, in datasette's manner: every hook in hookspecs.py is in the
connector author's guide with its exact signature, says when it is called, and is exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from gateway.core import hookspecs
from tests.support import signature_of

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "connectors.md"
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("gateway_")]


def test_there_are_hooks() -> None:
    assert HOOKS == ["gateway_entry_committed", "gateway_register_connectors"]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_saying_when_it_is_called(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert doc.startswith("Called")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_in_the_guide_with_its_exact_signature(hook: str) -> None:
    hooks_section = GUIDE.read_text().split("\n## Hooks\n", 1)[1].split("\n## ", 1)[0]
    assert f"```python\n{signature_of(getattr(hookspecs, hook))}\n```" in hooks_section


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook: str) -> None:
    tests = [path for path in (ROOT / "tests").rglob("test_*.py") if path.name != Path(__file__).name]
    assert any(f"def {hook}(" in path.read_text() for path in tests)
