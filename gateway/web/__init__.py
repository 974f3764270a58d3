"""The web UI: server-rendered pages, their static files and the live-update stream. HTTP only: every rule lives
in core, and the pages' scripts change data through the JSON API."""
