"""The memorialization outbox: one row per (interaction trigger, target record).

Rows are written in the same transaction that stores the triggering interaction event and
then claimed by the worker (``bot.memorialization.worker``). Scheduling times
(``available_at``, ``lease_expires_at``) are UTC epoch seconds: plain numbers compare the same
way on SQLite and PostgreSQL inside the single-statement claim.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UtcDateTime

__all__ = ["MemorializationJobRow", "JOB_STATUSES"]

# pending: waiting (first run or retry at available_at); running: leased by a worker;
# done: written; failed: gave up after the configured attempts or on a non-retryable error.
JOB_STATUSES = ("pending", "running", "done", "failed")


def _now() -> datetime:
    return datetime.now(UTC)


class MemorializationJobRow(Base):
    __tablename__ = "memorialization_jobs"

    # SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # sha256 of (interaction, trigger occurrence, configuration, record): a redelivered event
    # never queues a second job for the same write
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    timeline_key: Mapped[str] = mapped_column(String(200))
    interaction_id: Mapped[str] = mapped_column(String(128), index=True)
    configuration_id: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(255))
    trigger: Mapped[str] = mapped_column(String(32))
    # the interaction snapshot and the mapping rules for this record type, frozen at enqueue
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[float] = mapped_column(Float)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # what has been written, so a retried job skips steps that already happened
    fields_written_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timeline_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_now, onupdate=_now)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        # the claim: due jobs in id order
        Index("ix_memorialization_jobs_status_available", "status", "available_at"),
        # the claim's "no earlier unfinished job for the same record" check
        Index(
            "ix_memorialization_jobs_target", "configuration_id", "record_type", "record_id", "id"
        ),
    )
