"""Admins' view of the outbox (the API and the console): list jobs, read one as admins see
it, retry a failed one (recorded in the audit trail), and an interaction's failed writes
(the note on the agent's card)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import ConflictError, NotFoundError

from .. import audit
from ..storage.job_tables import MemorializationJobRow
from .worker import MemorializationWorker

__all__ = [
    "MemorializationList",
    "MemorializationOut",
    "failed_for_interaction",
    "get_job",
    "job_out",
    "list_jobs",
    "retry",
    "retry_job",
]


async def list_jobs(
    session: AsyncSession,
    *,
    status: str | None = None,
    interaction_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[MemorializationJobRow]:
    """Jobs, newest first; ``before_id`` pages on."""
    query = select(MemorializationJobRow).order_by(MemorializationJobRow.id.desc()).limit(limit)
    if status:
        query = query.where(MemorializationJobRow.status == status)
    if interaction_id:
        query = query.where(MemorializationJobRow.interaction_id == interaction_id)
    if before_id is not None:
        query = query.where(MemorializationJobRow.id < before_id)
    return list((await session.execute(query)).scalars())


async def get_job(session: AsyncSession, job_id: int) -> MemorializationJobRow:
    row = await session.get(MemorializationJobRow, job_id)
    if row is None:
        raise NotFoundError(
            f"Unknown memorialization job {job_id}", code="unknown_memorialization", field="id"
        )
    return row


async def retry_job(
    session: AsyncSession, job_id: int, now: float | None = None
) -> MemorializationJobRow:
    """Run a failed (or waiting) job again now, with a fresh set of attempts. A done or
    running job cannot be retried (ConflictError)."""
    row = await get_job(session, job_id)
    if row.status not in ("failed", "pending"):
        raise ConflictError(
            f"Job {job_id} is {row.status}; only failed or pending jobs can be retried",
            code="memorialization_not_retryable",
        )
    result = dict(row.result or {})
    # a retried job may now be older than a job that has since written the same record
    result["retried"] = int(result.get("retried", 0)) + 1
    row.status = "pending"
    row.attempts = 0
    row.available_at = time.time() if now is None else now
    row.completed_at = None
    row.result = result
    await session.flush()
    return row


async def failed_for_interaction(
    session: AsyncSession, interaction_id: str
) -> list[MemorializationJobRow]:
    """Failed writes of one interaction, for the small note on the agent's card."""
    return await list_jobs(session, status="failed", interaction_id=interaction_id)


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
    # CRM requests the job made, over all attempts (a batch's requests shared among its jobs)
    crm_calls: float = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None


class MemorializationList(_Out):
    memorializations: list[MemorializationOut]
    next_before_id: int | None = None  # pass as beforeId for the next page


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
        crm_calls=float(result.get("crmCalls", 0)),
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


async def retry(
    sessions: async_sessionmaker[AsyncSession], worker: MemorializationWorker, job_id: int
) -> MemorializationOut:
    """Run a failed (or waiting) job again now, with a fresh set of attempts."""
    async with sessions() as session, session.begin():
        row = await retry_job(session, job_id)
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
