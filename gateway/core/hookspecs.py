"""The one place that says what a plugin can do: each hook is a function here, with when it is called and what
it returns.

Plugins implement hooks with `gateway.connectors.hookimpl` and register through the entry-point group
`timetracker_gateway.connectors` in their distribution's metadata:

    [project.entry-points."timetracker_gateway.connectors"]
    tasklog = "example_connector.plugin"

pluggy knows nothing of ``async``: hooks discover connector classes and announce events; the gateway then calls
the chosen connector's async methods itself. An exception in one plugin's hook is reported and never breaks the
others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from gateway.connectors._hooks import ENTRY_POINT_GROUP, PROJECT_NAME, hookimpl

if TYPE_CHECKING:
    from gateway.connectors import Connector, EntryChange

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "gateway_entry_committed", "gateway_register_connectors", "hookimpl"]

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --- Registration -----------------------------------------------------------------------------------------------


@hookspec
def gateway_register_connectors() -> list[type[Connector[Any]]]:  # type: ignore[empty-body]
    """Called once when the plugin manager is built (at start-up of the API, a worker or the CLI).

    Return the connector classes this plugin provides, each a subclass of `gateway.connectors.Connector`
    with a unique `name`. Every plugin's result is used (this is not a first-result hook); the classes are
    validated before use, and a name claimed by two plugins is refused for both.
    """


# --- Events -----------------------------------------------------------------------------------------------------


@hookspec
def gateway_entry_committed(change: EntryChange) -> None:
    """Called after a transaction that created, changed or deleted a time entry has been committed.

    `change` says which entry, what happened and the entry's values after the change. For plugins that mirror
    time elsewhere; the return value is ignored, and an exception is logged and does not affect the entry.
    """
