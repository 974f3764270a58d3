"""The one place that says what a plugin can do: each hook is a function here, with when it is called and what
it returns.

Plugins implement hooks with `hookimpl` (re-exported by `gateway.core.connectors`) and register through the
entry-point group `timetracker_gateway.connectors` in their distribution's metadata:

    [project.entry-points."timetracker_gateway.connectors"]
    tasklog = "example_connector.plugin"

pluggy knows nothing of ``async``: hooks discover connector classes and announce events; the gateway then calls
the chosen connector's async methods itself. An exception in one plugin's hook is reported and never breaks the
others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from gateway.core.commit_events import EntryChange
    from gateway.core.connectors import Connector

PROJECT_NAME = "timetracker_gateway"
ENTRY_POINT_GROUP = "timetracker_gateway.connectors"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- Registration -----------------------------------------------------------------------------------------------


@hookspec
def gateway_register_connectors() -> list[type[Connector]]:  # type: ignore[empty-body]
    """Called once when the plugin manager is built (at start-up of the API, a worker or the CLI).

    Return the connector classes this plugin provides, each a subclass of `gateway.core.connectors.Connector`
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
