"""Sync bookkeeping: the base snapshot of each synced worklog, and the history of sync runs per link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.core.models.base import Base, json_column, utcnow


class WorklogSyncState(Base):
    """For one entry: the worklog as last synced (the base of three-way comparison) and push bookkeeping."""

    __tablename__ = "worklog_sync_states"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("users_ticket_systems.id", ondelete="SET NULL"), default=None
    )
    base: Mapped[dict[str, Any] | None] = mapped_column(json_column(), default=None)
    remote_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    # Written before a remote create: if set without a worklog id, the create may have happened remotely.
    push_started_at: Mapped[datetime | None] = mapped_column(default=None)
    # The remote version of a worklog in conflict (both sides changed the same field), kept until resolved.
    conflict_remote: Mapped[dict[str, Any] | None] = mapped_column(json_column(), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UnmappedWorklog(Base):
    """A worklog the user made directly in the tracker that no project of the gateway takes; parked for them."""

    __tablename__ = "unmapped_worklogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("users_ticket_systems.id", ondelete="CASCADE"))
    worklog_id: Mapped[str] = mapped_column(String(128))
    ticket: Mapped[str] = mapped_column(String(128))
    # The worklog as the tracker reported it (day, start, minutes, description, updated_at).
    worklog: Mapped[dict[str, Any]] = mapped_column(json_column(), default=dict)
    reason: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("link_id", "worklog_id"),)


class SyncRun(Base):
    """One sync of one link: when it ran, what it did, and how it ended."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("users_ticket_systems.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    pushed: Mapped[int] = mapped_column(default=0)
    pulled: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    conflicts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)


Index("idx_sync_runs_link_started", SyncRun.link_id, SyncRun.started_at)
Index("idx_sync_runs_unfinished", SyncRun.finished_at, SyncRun.started_at)
