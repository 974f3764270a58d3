"""Redmine connector (REST time entries and issues); registered through the entry point like any plugin."""
