"""Imports point downwards (DESIGN.md, "Parts and who imports whom"); checked on the source, statically."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> module prefixes it must never import
FORBIDDEN = {
    "gateway/core": ("gateway.api", "gateway.web", "gateway.cli", "gateway.plugins", "workers"),
    # The web UI stands on the API (its cookies, CSRF); `gateway/app.py` composes the two into one app.
    "gateway/api": ("gateway.cli", "workers", "gateway.web"),
    # The web UI is HTTP only: pages from core services, changes through the JSON API; no connector of its own.
    "gateway/web": ("gateway.cli", "workers", "gateway.plugins"),
    "workers": ("gateway.api", "gateway.web", "gateway.cli"),
    # The public package for connector authors stands on its own: it is what plugins import, and it imports
    # nothing of the gateway's private parts.
    "gateway/connectors": ("gateway.core", "gateway.api", "gateway.cli", "gateway.plugins", "workers", "sqlalchemy"),
    # Connectors speak the remote API only: no database, no settings, no routes.
    "gateway/plugins": ("workers", "sqlalchemy", "litestar"),
}
PUBLIC = "gateway.connectors"


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


def private_gateway_imports(package: Path, own: str) -> list[str]:
    """Imports of `gateway` modules other than the public package and the plugin's own modules."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top == "gateway" and module != PUBLIC and not (module == own or module.startswith(own + ".")):
                found.append(f"{path.relative_to(package)} imports {module}")
    return sorted(found)


PLUGINS = sorted(path for path in (ROOT / "gateway/plugins").iterdir() if (path / "__init__.py").is_file())


@pytest.mark.parametrize("plugin", PLUGINS, ids=[path.name for path in PLUGINS])
def test_built_in_connectors_import_only_the_public_package(plugin: Path) -> None:
    assert private_gateway_imports(plugin, f"gateway.plugins.{plugin.name}") == []


def test_the_example_connector_imports_only_the_public_package() -> None:
    package = ROOT / "tests/plugins/example_connector/src/example_connector"
    assert private_gateway_imports(package, "example_connector") == []


def test_the_allow_list_refuses_a_private_module(tmp_path: Path) -> None:
    (tmp_path / "connector.py").write_text(
        "from gateway.connectors import Connector\nfrom gateway.core.links import build_connector\n"
        "import gateway.connectors._base\nfrom gateway.plugins.other import x\n"
    )
    assert private_gateway_imports(tmp_path, "gateway.plugins.mine") == [
        "connector.py imports gateway.connectors._base",
        "connector.py imports gateway.core.links",
        "connector.py imports gateway.plugins.other",
    ]


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from gateway.api.app import create_app\nimport workers.jobs\n")
    assert imported_modules(module) == {"gateway.api.app", "workers.jobs"}
