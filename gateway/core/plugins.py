"""The plugin manager: finds connector plugins, validates them, and keeps going when one is broken.

Plugins come from the entry-point group `timetracker_gateway.connectors` (the built-in connectors register
there too, from this distribution's metadata) or are handed in directly (tests). Each plugin is loaded, checked
against `hookspecs` and asked for its connectors on its own, so a plugin that fails to import, implements a
misspelt hook, raises, or returns something that is not a valid connector is reported — in the log, in
`gateway plugins list` and in `/health/ready` — and the others work. A connector name claimed by two plugins is
refused for both: which one would win is not something to leave to import order.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import msgspec
import pluggy

from gateway.connectors import AuthKind, Capability, Connector, EntryChange
from gateway.connectors._base import CAPABILITY_METHODS
from gateway.core import hookspecs
from gateway.core.errors import GatewayError, reason_of
from gateway.core.logs import get_logger

log = get_logger("gateway.plugins")
CONNECTOR_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class ConnectorMissing(GatewayError):
    """A ticket system names a connector that is not installed (or was refused at start-up)."""


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    name: str
    connector: type[Connector[Any]]
    plugin: str
    distribution: str | None
    version: str | None

    @property
    def auth_modes(self) -> dict[str, AuthKind]:
        return dict(self.connector.auth_modes)

    @property
    def capabilities(self) -> list[Capability]:
        return sorted(self.connector.capabilities)


@dataclass(frozen=True, slots=True)
class PluginProblem:
    plugin: str
    distribution: str | None
    version: str | None
    problem: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    load: Any  # a zero-argument callable that imports the plugin object
    distribution: str | None = None
    version: str | None = None


@dataclass
class ConnectorRegistry:
    """The connectors that passed validation, and what went wrong with the rest."""

    manager: pluggy.PluginManager
    connectors: dict[str, ConnectorInfo] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)

    def get(self, name: str) -> ConnectorInfo | None:
        return self.connectors.get(name)

    def require(self, name: str) -> ConnectorInfo:
        info = self.connectors.get(name)
        if info is None:
            raise ConnectorMissing(f"no connector named {name!r} is installed; `gateway plugins list` shows them")
        return info

    def notify_entry_committed(self, change: EntryChange) -> None:
        """Call every plugin's `gateway_entry_committed`; one plugin's exception is logged, not spread."""
        for impl in self.manager.hook.gateway_entry_committed.get_hookimpls():
            try:
                impl.function(change=change)
            except Exception as exc:  # a plugin's bug must not touch the entry or the other plugins
                log.error("plugin failed in gateway_entry_committed", plugin=impl.plugin_name, error=reason_of(exc))


def build_registry(*, load_entry_points: bool = True, plugins: Mapping[str, object] | None = None) -> ConnectorRegistry:
    """Load, validate and register plugins; never raises for a broken plugin."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    registry = ConnectorRegistry(manager=manager)
    candidates = list(_entry_point_candidates()) if load_entry_points else []
    candidates += [_Candidate(name, lambda obj=obj: obj) for name, obj in (plugins or {}).items()]

    claimed: dict[str, list[ConnectorInfo]] = {}
    for candidate in candidates:
        for info in _connectors_of(manager, candidate, registry.problems):
            claimed.setdefault(info.name, []).append(info)
    for name, infos in claimed.items():
        if len(infos) == 1:
            registry.connectors[name] = infos[0]
            continue
        owners = " and ".join(f"{i.plugin} ({i.distribution or 'not installed'})" for i in infos)
        for info in infos:
            registry.problems.append(
                PluginProblem(
                    info.plugin,
                    info.distribution,
                    info.version,
                    f"connector name {name!r} is claimed by {owners}; neither is used until one is uninstalled",
                )
            )
    for problem in registry.problems:
        log.error("plugin refused", plugin=problem.plugin, distribution=problem.distribution, problem=problem.problem)
    return registry


def _entry_point_candidates() -> Iterable[_Candidate]:
    for entry_point in entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        yield _Candidate(entry_point.name, entry_point.load, *_distribution_of(entry_point))


def _distribution_of(entry_point: EntryPoint) -> tuple[str | None, str | None]:
    dist = entry_point.dist
    return (dist.name, dist.version) if dist is not None else (None, None)


def _connectors_of(
    manager: pluggy.PluginManager, candidate: _Candidate, problems: list[PluginProblem]
) -> list[ConnectorInfo]:
    def refuse(problem: str) -> list[ConnectorInfo]:
        problems.append(PluginProblem(candidate.name, candidate.distribution, candidate.version, problem))
        return []

    try:
        plugin = candidate.load()
    except Exception as exc:  # any import-time error of a third-party module
        return refuse(f"failed to import: {type(exc).__name__}: {reason_of(exc)}")
    try:
        manager.register(plugin, name=candidate.name)
        manager.check_pending()
    except (pluggy.PluginValidationError, ValueError) as exc:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        return refuse(f"invalid hook implementation: {reason_of(exc)}")

    found: list[ConnectorInfo] = []
    for impl in manager.hook.gateway_register_connectors.get_hookimpls():
        if impl.plugin_name != candidate.name:
            continue
        try:
            classes = impl.function()
        except Exception as exc:
            return refuse(f"gateway_register_connectors raised {type(exc).__name__}: {reason_of(exc)}")
        if not isinstance(classes, list | tuple):
            return refuse(f"gateway_register_connectors must return a list of connector classes, not {classes!r}")
        for candidate_class in classes:
            try:
                connector = validated_connector(candidate_class)
            except InvalidConnector as exc:
                refuse(str(exc))
                continue
            found.append(
                ConnectorInfo(connector.name, connector, candidate.name, candidate.distribution, candidate.version)
            )
    return found


class InvalidConnector(ValueError):
    """What a plugin returned cannot be used as a connector class."""


def validated_connector(connector: object) -> type[Connector[Any]]:
    """`connector` as a connector class, or `InvalidConnector` saying what is wrong with it."""
    if not (inspect.isclass(connector) and issubclass(connector, Connector)):
        raise InvalidConnector(f"returned {connector!r}, which is not a subclass of gateway.connectors.Connector")
    label = connector.__qualname__
    name = getattr(connector, "name", None)
    if not isinstance(name, str) or not CONNECTOR_NAME.match(name):
        raise InvalidConnector(f"{label}.name must be lower case letters, digits, '_' or '-' (got {name!r})")
    config_type = connector.config_type
    if not (inspect.isclass(config_type) and issubclass(config_type, msgspec.Struct)):
        raise InvalidConnector(f"{label}.config_type must be a msgspec.Struct subclass")
    _check_auth_modes(connector, label)
    _check_capabilities(connector, label)
    if inspect.isabstract(connector):
        raise InvalidConnector(f"{label} does not implement: {', '.join(sorted(connector.__abstractmethods__))}")
    return connector


def _check_auth_modes(connector: type[Connector[Any]], label: str) -> None:
    modes = getattr(connector, "auth_modes", None)
    if not isinstance(modes, Mapping) or not modes:
        raise InvalidConnector(f"{label}.auth_modes must map each auth mode's name to an AuthKind")
    for mode, kind in modes.items():
        if not isinstance(mode, str) or not isinstance(kind, AuthKind):
            raise InvalidConnector(f"{label}.auth_modes must map each auth mode's name to an AuthKind")
    field_name = connector.auth_mode_field
    if len(modes) > 1 and field_name is None:
        raise InvalidConnector(
            f"{label} has several auth_modes: auth_mode_field must name the config field choosing one"
        )
    if field_name is not None and field_name not in {f.name for f in msgspec.structs.fields(connector.config_type)}:
        raise InvalidConnector(f"{label}.auth_mode_field names {field_name!r}, which its config struct does not have")


def _check_capabilities(connector: type[Connector[Any]], label: str) -> None:
    declared = getattr(connector, "capabilities", None)
    if not isinstance(declared, frozenset) or not all(isinstance(c, Capability) for c in declared):
        raise InvalidConnector(f"{label}.capabilities must be a frozenset of Capability")
    for capability, methods in CAPABILITY_METHODS.items():
        overridden = [m for m in methods if getattr(connector, m) is not getattr(Connector, m)]
        if capability in declared and len(overridden) < len(methods):
            missing = ", ".join(m for m in methods if m not in overridden)
            raise InvalidConnector(f"{label} declares Capability.{capability.name} but does not implement {missing}")
        if capability not in declared and overridden:
            raise InvalidConnector(
                f"{label} implements {', '.join(overridden)} but does not declare Capability.{capability.name}"
                " in its capabilities, so the gateway would never call it"
            )
