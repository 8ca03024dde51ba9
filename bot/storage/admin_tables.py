"""Tables of the admin side: the audit trail (who changed what, when; written by the admin
API, the console and ``config apply`` alike) and the console's browser sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

__all__ = ["AuditRow", "ConsoleSessionRow"]


def _now() -> datetime:
    return datetime.now(UTC)


class AuditRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_configuration", "configuration_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(200))  # "api key 1a2b3c4d", "console: ...", "cli"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "configuration.create"
    configuration_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target: Mapped[str] = mapped_column(String(200), default="")  # the item's id
    summary: Mapped[str] = mapped_column(Text, default="")
    # names of the attributes that changed (never values: secrets must not land here)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ConsoleSessionRow(Base):
    """One signed-in browser: the cookie holds a random token, this row its SHA-256."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
