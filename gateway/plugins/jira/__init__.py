"""Jira connector (Cloud REST v3 and Data Center REST v2); registered through the entry point like any plugin."""
