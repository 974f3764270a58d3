"""Test support shipped with the gateway, for connector authors: the conformance suite (`conformance`).

It needs pytest (and pytest-asyncio), which a connector's test environment has; the gateway never imports it.
"""
