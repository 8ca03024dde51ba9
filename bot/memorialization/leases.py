"""Workers' hold on outbox jobs: claim due jobs with one statement (SQLite:
``UPDATE ... WHERE id IN (SELECT ...) RETURNING``; PostgreSQL: the same with ``FOR UPDATE
SKIP LOCKED``), holding a lease; a job whose lease expires is claimed again by any worker,
so a crashed process loses nothing. Every state change after the claim is guarded by the
lease owner: a worker that lost its lease cannot overwrite the new owner's work.

A job is never claimed while an earlier job for the same record is unfinished, so field
values reach each record in the order the interactions happened.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Update, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .jobs import JOBS, ClaimedJob, Outcome, claimed_job

__all__ = [
    "claim",
    "record",
    "renew_leases",
    "complete",
    "reschedule",
    "fail",
    "release",
    "newer_fields_written",
]

UNFINISHED = ("pending", "running")


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    limit: int,
    lease_seconds: float,
    now: float | None = None,
    skip_configurations: list[str] | None = None,
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs (pending and due, or running with an expired lease) to
    ``owner``, oldest first, counting an attempt for each. One statement: two workers never
    get the same job."""
    at = time.time() if now is None else now
    values: dict[str, Any] = {
        "at": at,
        "limit": limit,
        "owner": owner,
        "expires": at + lease_seconds,
        "now": datetime.now(UTC),
    }
    if skip_configurations:
        values["skip"] = list(skip_configurations)
    async with sessions() as session, session.begin():
        dialect = session.get_bind().dialect.name
        statement = _claim_statement(dialect == "postgresql", bool(skip_configurations))
        rows = (await session.execute(statement, values)).all()
    return sorted((claimed_job(row) for row in rows), key=lambda job: job.id)


@functools.cache
def _claim_statement(skip_locked: bool, skips: bool) -> Update:
    """``claim``'s statement, built once per form (the worker polls with it every
    ``poll_seconds``, also when nothing is due): its values are bound parameters."""
    candidate = JOBS.alias("candidate")
    earlier = JOBS.alias("earlier")
    blocked = exists().where(
        earlier.c.configuration_id == candidate.c.configuration_id,
        earlier.c.record_type == candidate.c.record_type,
        earlier.c.record_id == candidate.c.record_id,
        earlier.c.id < candidate.c.id,
        earlier.c.status.in_(UNFINISHED),
    )
    at = bindparam("at", type_=JOBS.c.available_at.type)
    due = or_(
        and_(candidate.c.status == "pending", candidate.c.available_at <= at),
        and_(candidate.c.status == "running", candidate.c.lease_expires_at < at),
    )
    pick = (
        select(candidate.c.id)
        .where(due, ~blocked)
        .order_by(candidate.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if skips:
        pick = pick.where(candidate.c.configuration_id.not_in(bindparam("skip", expanding=True)))
    if skip_locked:
        pick = pick.with_for_update(skip_locked=True, of=candidate)
    return (
        update(JOBS)
        .where(JOBS.c.id.in_(pick.scalar_subquery()))
        .values(
            status="running",
            lease_owner=bindparam("owner", type_=JOBS.c.lease_owner.type),
            lease_expires_at=bindparam("expires", type_=JOBS.c.lease_expires_at.type),
            attempts=JOBS.c.attempts + 1,
            updated_at=bindparam("now", type_=JOBS.c.updated_at.type),
        )
        .returning(*JOBS.c)
    )


async def record(
    sessions: async_sessionmaker[AsyncSession], owner: str, outcomes: list[Outcome]
) -> list[bool]:
    """Save outcomes in one transaction. Each is guarded by the lease: False for a job whose
    lease ``owner`` lost (another worker owns it now and its result counts)."""
    saved = []
    async with sessions() as session, session.begin():
        for outcome in outcomes:
            result = await session.execute(
                update(JOBS)
                .where(
                    JOBS.c.id == outcome.job.id,
                    JOBS.c.lease_owner == owner,
                    JOBS.c.status == "running",
                )
                .values(**outcome.values())
            )
            saved.append(bool(result.rowcount))  # type: ignore[attr-defined]
    return saved


async def renew_leases(
    sessions: async_sessionmaker[AsyncSession], owner: str, job_ids: list[int], lease_seconds: float
) -> int:
    """Extend the leases ``owner`` still holds; how many it still held."""
    if not job_ids:
        return 0
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(JOBS)
            .where(JOBS.c.id.in_(job_ids), JOBS.c.lease_owner == owner, JOBS.c.status == "running")
            .values(lease_expires_at=time.time() + lease_seconds)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def complete(sessions: async_sessionmaker[AsyncSession], job: ClaimedJob, owner: str) -> bool:
    """Mark done; False when the lease was lost (another worker owns the job now)."""
    return (await record(sessions, owner, [Outcome(job, "done")]))[0]


async def reschedule(
    sessions: async_sessionmaker[AsyncSession],
    job: ClaimedJob,
    owner: str,
    *,
    at: float,
    error_code: str,
    error: str,
) -> bool:
    """Back to pending until ``at``, keeping what was written and the error."""
    return (await record(sessions, owner, [Outcome(job, "pending", at, error_code, error)]))[0]


async def fail(
    sessions: async_sessionmaker[AsyncSession],
    job: ClaimedJob,
    owner: str,
    *,
    error_code: str,
    error: str,
) -> bool:
    """Give up: the job stays visible as failed with its last error until retried."""
    return (await record(sessions, owner, [Outcome(job, "failed", None, error_code, error)]))[0]


async def release(sessions: async_sessionmaker[AsyncSession], job: ClaimedJob, owner: str) -> bool:
    """Hand an unfinished job back (shutdown): due at once, its attempt not counted."""
    return (await record(sessions, owner, [Outcome(job, "released")]))[0]


async def newer_fields_written(
    sessions: async_sessionmaker[AsyncSession], job: ClaimedJob
) -> int | None:
    """Id of a later job that already wrote fields of the same record: this job's values
    would be stale there (it failed, and was retried after the later one ran)."""
    async with sessions() as session:
        newer: int | None = (
            await session.execute(
                select(func.min(JOBS.c.id)).where(
                    JOBS.c.configuration_id == job.configuration_id,
                    JOBS.c.record_type == job.record_type,
                    JOBS.c.record_id == job.record_id,
                    JOBS.c.id > job.id,
                    JOBS.c.fields_written_at.is_not(None),
                )
            )
        ).scalar()
        return newer
