"""Every controller of the `/api` surface, in the order the OpenAPI document lists them."""

from __future__ import annotations

from litestar import Controller

from gateway.api.auth import AuthController, MeController
from gateway.api.customers import CustomerController

API_CONTROLLERS: list[type[Controller]] = [AuthController, MeController, CustomerController]
