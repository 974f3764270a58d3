"""The gateway's core: schema, settings, security, hookspecs and domain services.

Core imports neither `gateway.api` nor `workers`; both of those build on it.
"""
