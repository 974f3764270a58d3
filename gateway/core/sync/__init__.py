"""The sync engine: pushing entries as worklogs exactly once, pulling the tracker's changes, settling conflicts.

It speaks only the connector protocol (`gateway.connectors`), so any connector — built-in or third-party —
goes through the same code.
"""
