"""The module the entry point names: it hands the gateway the Jira connector."""

from __future__ import annotations

from typing import Any

from gateway.connectors import Connector, hookimpl
from gateway.plugins.jira.connector import JiraConnector


@hookimpl
def gateway_register_connectors() -> list[type[Connector[Any]]]:
    return [JiraConnector]
