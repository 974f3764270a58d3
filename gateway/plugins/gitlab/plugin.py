"""The module the entry point names: it hands the gateway the GitLab connector."""

from __future__ import annotations

from typing import Any

from gateway.connectors import Connector, hookimpl
from gateway.plugins.gitlab.connector import GitLabConnector


@hookimpl
def gateway_register_connectors() -> list[type[Connector[Any]]]:
    return [GitLabConnector]
