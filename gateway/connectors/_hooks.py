"""The names pluggy and the entry points use; the hooks themselves are specified in `gateway.core.hookspecs`."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "timetracker_gateway"
#: The entry-point group a plugin distribution registers its module under.
ENTRY_POINT_GROUP = "timetracker_gateway.connectors"

#: Marks a plugin module's hook implementations (`@hookimpl def gateway_register_connectors(): ...`).
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
