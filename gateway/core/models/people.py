"""Users, teams, their contracts and their personal API tokens."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.core.enums import UserType
from gateway.core.models.base import Base, SoftDeleteMixin, TimestampMixin, json_column, str_enum, utcnow

if TYPE_CHECKING:
    from gateway.core.models.master_data import Customer

teams_users = Table(
    "teams_users",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves lookups by team; a user's teams need their own index.
    Index("idx_teams_users_user", "user_id"),
)

teams_customers = Table(
    "teams_customers",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Index("idx_teams_customers_customer", "customer_id"),
)


class User(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(default="")
    abbr: Mapped[str | None] = mapped_column(String(3), default=None)
    email: Mapped[str | None] = mapped_column(default=None)
    type: Mapped[UserType] = mapped_column(str_enum(UserType), default=UserType.DEV)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    # An argon2 hash for local accounts; NULL for accounts that authenticate against LDAP.
    password_hash: Mapped[str | None] = mapped_column(default=None)

    teams: Mapped[list[Team]] = relationship(secondary=teams_users, back_populates="members", lazy="raise")

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r}, type={self.type!r})"


class Team(TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    members: Mapped[list[User]] = relationship(secondary=teams_users, back_populates="teams", lazy="raise")
    customers: Mapped[list[Customer]] = relationship(secondary=teams_customers, back_populates="teams", lazy="raise")


class Contract(TimestampMixin, Base):
    """A user's working hours per weekday from `start` until `end` (open-ended when NULL); Sunday is 0."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start: Mapped[date]
    end: Mapped[date | None] = mapped_column(default=None)
    hours_0: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_1: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_2: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_3: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_4: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_5: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))
    hours_6: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal(0))

    __table_args__ = (Index("idx_contracts_user_start", "user_id", "start"),)


class ApiToken(Base):
    """A personal API token; only its hash is stored, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    # The first characters of the token, so a user can tell tokens apart without the token itself.
    token_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(json_column(), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("idx_api_tokens_user", "user_id"),)

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, user_id={self.user_id!r}, name={self.name!r})"
