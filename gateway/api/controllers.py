"""Every controller of the `/api` surface, in the order the OpenAPI document lists them."""

from __future__ import annotations

from litestar import Controller

from gateway.api.activities import AccountController, ActivityController
from gateway.api.auth import AuthController, MeController
from gateway.api.contracts import ContractController
from gateway.api.customers import CustomerController
from gateway.api.entries import EntryController
from gateway.api.link_admin import LinkAdminController
from gateway.api.links import MyLinkController, OAuthCallbackController, UserLinkController
from gateway.api.presets import HolidayController, PresetController
from gateway.api.projects import ProjectController
from gateway.api.reports import ReportController
from gateway.api.sync import SyncController
from gateway.api.teams import TeamController, UserController
from gateway.api.ticket_system_types import TicketSystemTypeController
from gateway.api.ticket_systems import TicketSystemController
from gateway.api.tickets import TicketController
from gateway.api.webhooks import WebhookController

API_CONTROLLERS: list[type[Controller]] = [
    AuthController,
    MeController,
    EntryController,
    CustomerController,
    ProjectController,
    ActivityController,
    AccountController,
    PresetController,
    HolidayController,
    TeamController,
    UserController,
    ContractController,
    TicketSystemController,
    TicketSystemTypeController,
    UserLinkController,
    LinkAdminController,
    MyLinkController,
    OAuthCallbackController,
    TicketController,
    WebhookController,
    SyncController,
    ReportController,
]
