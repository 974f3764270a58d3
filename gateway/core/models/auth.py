"""Browser login sessions and failed login attempts (for rate limiting)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.core.models.base import Base, utcnow


class LoginSession(Base):
    """A server-side login: a browser session, or a long-lived remember-me token. Only the token's hash is kept."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "session" (short, sliding expiry) or "remember" (long; starts a new session when the session has expired).
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    __table_args__ = (Index("idx_login_sessions_user", "user_id"),)


class LoginAttempt(Base):
    """A failed login, kept for a while to limit guessing per username and per client address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("idx_login_attempts_username", "username", "attempted_at"),
        Index("idx_login_attempts_address", "address", "attempted_at"),
    )
