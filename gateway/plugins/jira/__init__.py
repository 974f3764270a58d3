"""Jira connector (Cloud REST v3 and Data Center REST v2).

The package is reserved by the layout; the connector itself is delivered with the Jira issue, on top of the
connector contract in `gateway/core/hookspecs.py`. The API facts it relies on are in ../shared/TRACKERS.md.
"""
