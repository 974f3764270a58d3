"""The plugin module the entry point names: it hands the gateway its connector classes."""

from __future__ import annotations

from typing import Any

from example_connector.connector import TasklogConnector, TasklogTokenConnector
from gateway.connectors import Connector, hookimpl


@hookimpl
def gateway_register_connectors() -> list[type[Connector[Any]]]:
    return [TasklogConnector, TasklogTokenConnector]
