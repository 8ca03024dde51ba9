"""Memorialization jobs as admins see them (the API and the console): the view of one
job, and retrying a failed one (recorded in the audit trail)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .. import audit
from ..storage.job_tables import MemorializationJobRow
from . import outbox
from .worker import MemorializationWorker

__all__ = ["MemorializationList", "MemorializationOut", "job_out", "retry"]


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class MemorializationOut(_Out):
    id: int
    interaction_id: str
    configuration_id: str
    record_type: str
    record_id: str
    trigger: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = None  # pending jobs: not before this time
    last_error: str | None = None
    last_error_code: str | None = None
    timeline_id: str | None = None
    fields: list[str] = Field(default_factory=list)  # fields written
    truncated: list[dict[str, Any]] = Field(default_factory=list)
    skipped: list[dict[str, Any]] = Field(default_factory=list)
    superseded_by: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None


class MemorializationList(_Out):
    memorializations: list[MemorializationOut]
    next_before_id: int | None = None  # pass as beforeId for the next page


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def job_out(row: MemorializationJobRow) -> MemorializationOut:
    result = row.result or {}
    return MemorializationOut(
        id=row.id,
        interaction_id=row.interaction_id,
        configuration_id=row.configuration_id,
        record_type=row.record_type,
        record_id=row.record_id,
        trigger=row.trigger,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=(
            datetime.fromtimestamp(row.available_at, UTC) if row.status == "pending" else None
        ),
        last_error=row.last_error,
        last_error_code=row.last_error_code,
        timeline_id=row.timeline_id,
        fields=list(result.get("fields", [])),
        truncated=list(result.get("truncated", [])),
        skipped=list(result.get("skipped", [])),
        superseded_by=result.get("supersededBy"),
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        completed_at=_utc(row.completed_at),
    )


async def retry(
    sessions: async_sessionmaker[AsyncSession], worker: MemorializationWorker, job_id: int
) -> MemorializationOut:
    """Run a failed (or waiting) job again now, with a fresh set of attempts."""
    async with sessions() as session, session.begin():
        row = await outbox.retry_job(session, job_id)
        audit.record(
            session,
            "memorialization.retry",
            configuration_id=row.configuration_id,
            target=str(job_id),
            summary=f"{row.record_type} {row.record_id} ({row.interaction_id})",
        )
        body = job_out(row)
    worker.notify()
    return body
