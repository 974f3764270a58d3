"""Built-in connectors, one package per ticket system.

They register through the entry-point group `timetracker_gateway.connectors` exactly as a third-party
connector does, and import only core's public types: no database session, no route, no settings.
"""
