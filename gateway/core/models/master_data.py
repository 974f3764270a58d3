"""Customers, projects, activities, billing accounts, presets and holidays."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.core.enums import BillingType
from gateway.core.models.base import (
    Base,
    IntEnumType,
    SoftDeleteMixin,
    TimestampMixin,
    json_column,
    live_unique,
)
from gateway.core.models.people import teams_customers

if TYPE_CHECKING:
    from gateway.core.models.people import Team
    from gateway.core.models.ticket_systems import TicketSystem


class Customer(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
    # A global customer is visible to every user, not only to its teams.
    global_: Mapped[bool] = mapped_column("global", default=False)

    teams: Mapped[list[Team]] = relationship(secondary=teams_customers, back_populates="customers", lazy="raise")

    __table_args__ = (live_unique("uq_customers_name_live", "name"),)


class Project(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    name: Mapped[str]
    active: Mapped[bool] = mapped_column(default=True)
    global_: Mapped[bool] = mapped_column("global", default=False)
    ticket_system_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_systems.id", ondelete="SET NULL"), default=None
    )
    # Ticket key prefixes such as ["ABC", "OPS"]; entries on the project must carry a ticket with one of them.
    ticket_prefixes: Mapped[list[str]] = mapped_column(json_column(), default=list)
    # When non-empty, the only tickets (full keys) entries on the project may be booked on.
    subtickets: Mapped[list[str]] = mapped_column(json_column(), default=list)
    estimation_minutes: Mapped[int | None] = mapped_column(default=None)
    offer: Mapped[str | None] = mapped_column(default=None)
    billing: Mapped[BillingType] = mapped_column(IntEnumType(BillingType), default=BillingType.NONE)
    cost_center: Mapped[str | None] = mapped_column(String(64), default=None)
    project_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    technical_lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    customer: Mapped[Customer] = relationship(lazy="raise")
    ticket_system: Mapped[TicketSystem | None] = relationship(lazy="raise")

    __table_args__ = (
        live_unique("uq_projects_customer_name_live", "customer_id", "name"),
        Index("idx_projects_ticket_system", "ticket_system_id"),
    )


class Activity(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    needs_ticket: Mapped[bool] = mapped_column(default=False)
    # Share of the time that is billable (1.00 = all of it).
    factor: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(1))

    __table_args__ = (live_unique("uq_activities_name_live", "name"),)


class Account(TimestampMixin, SoftDeleteMixin, Base):
    """A billing account an entry can be booked to."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))

    __table_args__ = (live_unique("uq_accounts_name_live", "name"),)


class Preset(TimestampMixin, Base):
    """A named customer/project/activity/description for quick and bulk entry."""

    __tablename__ = "presets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text, default="")


class Holiday(Base):
    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str]
