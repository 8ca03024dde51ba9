"""Admins' view of the outbox: list jobs, read one, retry a failed one, and an
interaction's failed writes (the note on the agent's card)."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.errors import ConflictError, NotFoundError

from ..storage.job_tables import MemorializationJobRow

__all__ = ["list_jobs", "get_job", "retry_job", "failed_for_interaction"]


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
