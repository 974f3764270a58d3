"""The domain's enumerations, stored as the original TimeTracker stored them."""

from enum import IntEnum, StrEnum


class UserType(StrEnum):
    """A user's role; stored by name."""

    USER = "USER"
    DEV = "DEV"
    PL = "PL"
    ADMIN = "ADMIN"


class EntryClass(IntEnum):
    """Where an entry sits in its day, stored as the original's integers.

    The first entry of a day is DAYBREAK; each later one is PAUSE after a gap, OVERLAP when it starts before
    the previous end, PLAIN when it starts exactly at it. DEFAULT is an entry not classified yet.
    """

    DEFAULT = 0
    PLAIN = 1
    DAYBREAK = 2
    PAUSE = 4
    OVERLAP = 8


class BillingType(IntEnum):
    """How a project is billed, stored as the original's integers."""

    NONE = 0
    TIME_AND_MATERIAL = 1
    FIXED_PRICE = 2
    MIXED = 3


class SyncState(StrEnum):
    """Where an entry stands with its ticket system's worklog; NULL in the database means "not synced"."""

    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    CONFLICT = "conflict"
    REMOTE_DELETED = "remote_deleted"
