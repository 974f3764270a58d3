"""The schema: every table of the gateway as a typed SQLAlchemy model."""

from gateway.core.models.auth import LoginAttempt, LoginSession
from gateway.core.models.base import Base
from gateway.core.models.entries import Entry, EntryRevision
from gateway.core.models.master_data import Account, Activity, Customer, Holiday, Preset, Project
from gateway.core.models.people import ApiToken, Contract, Team, User, teams_customers, teams_users
from gateway.core.models.sync import SyncRun, UnmappedWorklog, WorklogSyncState
from gateway.core.models.ticket_systems import (
    Link,
    OAuthState,
    Ticket,
    TicketSystem,
    WebhookDelivery,
)

__all__ = [
    "Account",
    "Activity",
    "ApiToken",
    "Base",
    "Contract",
    "Customer",
    "Entry",
    "EntryRevision",
    "Holiday",
    "Link",
    "LoginAttempt",
    "LoginSession",
    "OAuthState",
    "Preset",
    "Project",
    "SyncRun",
    "Team",
    "Ticket",
    "TicketSystem",
    "UnmappedWorklog",
    "User",
    "WebhookDelivery",
    "WorklogSyncState",
    "teams_customers",
    "teams_users",
]
