from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gateway.core.errors import ConfigError
from gateway.core.settings import DEFAULT_DATABASE_URL, load_settings


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings({})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///gateway.db"
    assert settings.redis_url is None
    assert settings.key_ring is None
    assert (settings.log_level, settings.log_format) == ("INFO", "auto")


def test_values_come_from_the_environment(key_line: str) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql+psycopg://app@db/gateway",
            "REDIS_URL": "redis://cache:6379/0",
            "GATEWAY_SECRET_KEYS": key_line,
            "GATEWAY_LOG_LEVEL": "debug",
            "GATEWAY_LOG_FORMAT": "json",
        }
    )
    assert settings.database_url == "postgresql+psycopg://app@db/gateway"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.key_ring is not None
    assert settings.key_ring.key_ids == ("test-key",)
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_key_ring_is_read_from_a_key_file(tmp_path: Path, key_line: str) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"# keys\n{key_line}\n")
    settings = load_settings({"GATEWAY_SECRET_KEYS_FILE": str(key_file)})
    assert settings.require_key_ring().key_ids == ("test-key",)


def test_inline_keys_win_over_the_key_file(tmp_path: Path, key_line: str) -> None:
    settings = load_settings({"GATEWAY_SECRET_KEYS": key_line, "GATEWAY_SECRET_KEYS_FILE": str(tmp_path / "none")})
    assert settings.require_key_ring().key_ids == ("test-key",)


def test_missing_key_ring_is_a_clear_error_when_required() -> None:
    with pytest.raises(ConfigError, match="no secret key ring configured: set GATEWAY_SECRET_KEYS"):
        load_settings({}).require_key_ring()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GATEWAY_LOG_LEVEL": "LOUD"}, "GATEWAY_LOG_LEVEL must be one of"),
        ({"GATEWAY_LOG_FORMAT": "xml"}, "GATEWAY_LOG_FORMAT must be auto, json or console"),
        ({"GATEWAY_SECRET_KEYS_FILE": "/nonexistent/keys"}, "names /nonexistent/keys, which does not exist"),
        ({"GATEWAY_SECRET_KEYS": "k1:short"}, "GATEWAY_SECRET_KEYS: secret key 'k1' is not a valid key"),
        ({"DATABASE_URL": "mysql://db/x"}, "supports sqlite and postgresql"),
        ({"DATABASE_URL": "not a url"}, "is not a database URL"),
    ],
)
def test_invalid_settings_are_refused_in_one_line(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(environ)
    assert "\n" not in str(caught.value)


def test_key_material_does_not_appear_in_the_settings_repr(key_line: str) -> None:
    settings = load_settings({"GATEWAY_SECRET_KEYS": key_line})
    assert key_line.split(":", 1)[1] not in repr(settings)


def settings_read_from_the_environment() -> set[str]:
    """Every variable settings.py reads: the names handed to `env.get(NAME, …)` and `_positive_int(env, NAME, …)`."""

    import gateway.core.settings as module

    names: set[str] = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            name = node.args[0]
        elif isinstance(node.func, ast.Name) and node.func.id in ("_positive_int", "_boolean") and len(node.args) > 1:
            name = node.args[1]
        else:
            continue
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            names.add(name.value)
    return names


def test_every_setting_read_is_in_the_readmes_settings_table() -> None:
    names = settings_read_from_the_environment()
    assert {"DATABASE_URL", "GATEWAY_TRACKER_RATE", "LDAP_TIMEOUT", "GATEWAY_SECRET_KEYS_FILE"} <= names
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert names - documented == set(), "read in settings.py but missing from the README's table"
    assert documented - names == set(), "in the README's table but never read"
