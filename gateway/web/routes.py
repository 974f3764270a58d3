"""Every route of the web UI; none of them is part of the API's OpenAPI description."""

from __future__ import annotations

from litestar.router import Router
from litestar.types import ControllerRouterHandler

from gateway.web.admin import AdminController
from gateway.web.auth import LoginController
from gateway.web.entry import EntryPageController
from gateway.web.live import live
from gateway.web.master_data import MasterDataController
from gateway.web.reports import ReportsController
from gateway.web.static import static_files
from gateway.web.ticket_systems import TicketSystemsController
from gateway.web.week import WeekController

WEB_ROUTE_HANDLERS: list[ControllerRouterHandler | Router] = [
    LoginController,
    WeekController,
    EntryPageController,
    TicketSystemsController,
    AdminController,
    ReportsController,
    MasterDataController,
    live,
    static_files(),
]
