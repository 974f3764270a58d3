"""Imports point downwards (DESIGN.md, "Parts and who imports whom"); checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> module prefixes it must never import
FORBIDDEN = {
    "gateway/core": ("gateway.api", "gateway.web", "gateway.cli", "gateway.plugins", "workers"),
    "gateway/api": ("gateway.cli", "workers"),
    # The web UI is HTTP only: pages from core services, changes through the JSON API; no connector of its own.
    "gateway/web": ("gateway.cli", "workers", "gateway.plugins"),
    "workers": ("gateway.api", "gateway.web", "gateway.cli"),
    # Connectors speak the remote API only: no database, no settings, no routes.
    "gateway/plugins": (
        "gateway.api",
        "gateway.cli",
        "workers",
        "gateway.core.db",
        "gateway.core.models",
        "gateway.core.settings",
        "sqlalchemy",
        "litestar",
    ),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if any(module == prefix or module.startswith(prefix + ".") for prefix in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


@pytest.mark.parametrize(("package", "forbidden"), FORBIDDEN.items(), ids=list(FORBIDDEN))
def test_imports_point_downwards(package: str, forbidden: tuple[str, ...]) -> None:
    assert (ROOT / package).is_dir()
    assert violations(package, forbidden) == []


def test_the_example_connector_uses_only_the_public_connector_types() -> None:
    public = ("gateway.core.connectors", "gateway.core.oauth2")
    package = ROOT / "tests/plugins/example_connector/src/example_connector"
    for name in ("connector.py", "plugin.py"):
        gateway_imports = {m for m in imported_modules(package / name) if m.startswith("gateway")}
        assert gateway_imports <= set(public), name


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from gateway.api.app import create_app\nimport workers.jobs\n")
    assert imported_modules(module) == {"gateway.api.app", "workers.jobs"}
