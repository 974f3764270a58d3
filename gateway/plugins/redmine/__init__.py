"""Redmine connector (REST time entries and issues).

The package is reserved by the layout; the connector itself is delivered with the Redmine issue, on top of the
connector contract in `gateway/core/hookspecs.py`. The API facts it relies on are in ../shared/TRACKERS.md.
"""
