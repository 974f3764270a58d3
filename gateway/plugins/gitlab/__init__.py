"""GitLab connector (GraphQL timelogs, REST issues).

The package is reserved by the layout; the connector itself is delivered on top of the connector contract in
`gateway/core/hookspecs.py`. The API facts it will rely on are in docs/trackers.md.
"""
