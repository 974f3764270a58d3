"""TimeTracker Gateway: time tracking whose entries land as worklogs in ticket systems."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("timetracker-gateway")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
