"""Time entries, the hub of the schema, and their audit trail."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.core.enums import EntryClass, SyncState
from gateway.core.models.base import (
    Base,
    IntEnumType,
    SoftDeleteMixin,
    TimestampMixin,
    json_column,
    str_enum,
    utcnow,
)

if TYPE_CHECKING:
    from gateway.core.models.master_data import Account, Activity, Customer, Project
    from gateway.core.models.people import User


class Entry(TimestampMixin, SoftDeleteMixin, Base):
    """Time a user worked on a day, from `start` to `end` (local wall-clock time, never across midnight)."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable public identity; the marker written with the remote worklog carries it.
    uuid: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), default=None)
    day: Mapped[date]
    start: Mapped[time]
    end: Mapped[time]
    duration: Mapped[int] = mapped_column(doc="Minutes, derived from start and end.")
    ticket: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    entry_class: Mapped[EntryClass] = mapped_column("class", IntEnumType(EntryClass), default=EntryClass.DEFAULT)
    worklog_id: Mapped[str | None] = mapped_column(String(128), default=None)
    synced_to_ticketsystem: Mapped[bool] = mapped_column(default=False)
    sync_state: Mapped[SyncState | None] = mapped_column(str_enum(SyncState), default=None)
    sync_error: Mapped[str | None] = mapped_column(Text, default=None)
    sync_attempts: Mapped[int] = mapped_column(default=0)
    next_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    # Bumped on every change; a write that names an older version is refused (optimistic concurrency).
    version: Mapped[int] = mapped_column(default=1)

    user: Mapped[User] = relationship(lazy="raise")
    customer: Mapped[Customer] = relationship(lazy="raise")
    project: Mapped[Project] = relationship(lazy="raise")
    activity: Mapped[Activity] = relationship(lazy="raise")
    account: Mapped[Account | None] = relationship(lazy="raise")

    # What the API shows for `start`, `end` and `class`; `entries.ENTRY_OUT_COLUMNS` computes the same in SQL, so
    # an entry read as a row and one read as an object convert to the same output.
    @property
    def start_text(self) -> str:
        return f"{self.start:%H:%M}"

    @property
    def end_text(self) -> str:
        return f"{self.end:%H:%M}"

    @property
    def class_name(self) -> str:
        return self.entry_class.name

    def __repr__(self) -> str:
        return f"Entry(id={self.id!r}, user_id={self.user_id!r}, day={self.day!r}, {self.start!r}-{self.end!r})"


# The seed's indexes, by their names and column orders; then those the sync and the reports need.
Index("idx_entries_user_day", Entry.user_id, Entry.day.desc())
Index("idx_entries_day", Entry.day)
Index("idx_entries_project", Entry.project_id)
Index("idx_entries_customer", Entry.customer_id)
Index("idx_entries_day_start", Entry.day.desc(), Entry.start.desc())
Index("idx_entries_user_project", Entry.user_id, Entry.project_id)
Index("idx_entries_user_sync", Entry.user_id, Entry.synced_to_ticketsystem)
Index("idx_entries_worklog", Entry.worklog_id)
Index("idx_entries_ticket", Entry.ticket)
Index("idx_entries_activity", Entry.activity_id)
Index("idx_entries_account", Entry.account_id)
Index("idx_entries_sync_state", Entry.sync_state, Entry.next_sync_at)
# A project's days: the time report and progress of one project (migration 0010).
Index("idx_entries_project_day", Entry.project_id, Entry.day)


class EntryRevision(Base):
    """One change to an entry: who (a user, or a remote tracker), when, and each field's old and new value."""

    __tablename__ = "entry_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    # Where the change came from: "api", "cli", or "sync:<ticket system name>" for a remote edit.
    source: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16), doc="create, update or delete")
    # {field: [old, new]} with values as JSON-compatible text or numbers.
    changes: Mapped[dict[str, Any]] = mapped_column(json_column(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[Entry] = relationship(lazy="raise")


Index("idx_entry_revisions_entry", EntryRevision.entry_id, EntryRevision.created_at)
