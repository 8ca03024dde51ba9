"""The outbox: memorialization jobs in the service's database.

``enqueue`` runs inside the caller's transaction (the one that stores the triggering event),
so a job exists exactly when its event does. Workers ``claim`` due jobs with one statement
(SQLite: ``UPDATE ... WHERE id IN (SELECT ...) RETURNING``; PostgreSQL: the same with
``FOR UPDATE SKIP LOCKED``), holding a lease; a job whose lease expires is claimed again by
any worker, so a crashed process loses nothing. Every state change after the claim is guarded
by the lease owner: a worker that lost its lease cannot overwrite the new owner's work.

A job is never claimed while an earlier job for the same record is unfinished, so field
values reach each record in the order the interactions happened.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import ConflictError, NotFoundError
from crm.mappings import MemorializationMapping

from ..storage.job_tables import MemorializationJobRow
from .snapshot import InteractionSnapshot, TargetRecord

__all__ = [
    "ClaimedJob",
    "Progress",
    "Outcome",
    "record",
    "enqueue",
    "claim",
    "renew_leases",
    "complete",
    "reschedule",
    "fail",
    "release",
    "newer_fields_written",
    "list_jobs",
    "get_job",
    "retry_job",
    "failed_for_interaction",
]

_JOBS = cast(Table, MemorializationJobRow.__table__)
UNFINISHED = ("pending", "running")


def _keys(snapshot: InteractionSnapshot, target: TargetRecord) -> tuple[str, str]:
    """(dedupe key, timeline idempotency key) for one target of one trigger.

    A voice interaction gets one activity per record whatever triggered it (a call that
    ended and then also completed after-call work rewrites its fields, but is still one
    call on the timeline); a digital interaction gets one per hand-off (``occurrence``)."""
    record = (snapshot.configuration_id, target.record_type.lower(), target.record_id)
    occurrence = (snapshot.trigger, snapshot.occurrence)
    dedupe = hashlib.sha256(
        "\x1f".join((snapshot.interaction_id, *occurrence, *record)).encode()
    ).hexdigest()
    timeline_parts = (
        snapshot.interaction_id,
        snapshot.channel,
        *record,
        *(occurrence if snapshot.channel == "digital" else ()),
    )
    timeline = hashlib.sha256("\x1f".join(timeline_parts).encode()).hexdigest()
    return dedupe, f"cc:{snapshot.interaction_id}:{timeline[:16]}"


def _unique_targets(targets: list[TargetRecord]) -> list[TargetRecord]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for target in targets:
        key = (target.record_type.lower(), target.record_id)
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


async def enqueue(
    session: AsyncSession,
    snapshot: InteractionSnapshot,
    mapping: MemorializationMapping | None,
    *,
    now: float | None = None,
) -> list[MemorializationJobRow]:
    """Queue one job per target record (its mapped field values and its timeline activity)
    in the caller's transaction. Queuing the same trigger again adds nothing."""
    targets = _unique_targets(snapshot.targets)
    if not targets:
        return []
    keyed = [(target, *_keys(snapshot, target)) for target in targets]
    existing = set(
        (
            await session.execute(
                select(MemorializationJobRow.dedupe_key).where(
                    MemorializationJobRow.dedupe_key.in_([dedupe for _, dedupe, _ in keyed])
                )
            )
        ).scalars()
    )
    snapshot_json = snapshot.model_dump(mode="json", by_alias=True)
    at = time.time() if now is None else now
    rows = []
    for target, dedupe, timeline_key in keyed:
        if dedupe in existing:
            continue
        rules = mapping.rules_for(target.record_type) if mapping else []
        rows.append(
            MemorializationJobRow(
                dedupe_key=dedupe,
                timeline_key=timeline_key,
                interaction_id=snapshot.interaction_id,
                configuration_id=snapshot.configuration_id,
                record_type=target.record_type,
                record_id=target.record_id,
                trigger=snapshot.trigger,
                status="pending",
                attempts=0,
                available_at=at,
                payload={
                    "snapshot": snapshot_json,
                    "mappingId": mapping.id if mapping else None,
                    "rules": [rule.model_dump(mode="json", by_alias=True) for rule in rules],
                },
                result={},
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows


@dataclass
class Progress:
    """What a job has written so far; saved with every state change."""

    fields_written_at: float | None = None
    timeline_id: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {
            "fields_written_at": self.fields_written_at,
            "timeline_id": self.timeline_id,
            "result": self.result,
        }


@dataclass
class ClaimedJob:
    id: int
    interaction_id: str
    configuration_id: str
    record_type: str
    record_id: str
    timeline_key: str
    payload: dict[str, Any]
    attempts: int
    progress: Progress


def _claimed(row: Any) -> ClaimedJob:
    return ClaimedJob(
        id=row.id,
        interaction_id=row.interaction_id,
        configuration_id=row.configuration_id,
        record_type=row.record_type,
        record_id=row.record_id,
        timeline_key=row.timeline_key,
        payload=row.payload,
        attempts=row.attempts,
        progress=Progress(row.fields_written_at, row.timeline_id, dict(row.result or {})),
    )


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
    candidate = _JOBS.alias("candidate")
    earlier = _JOBS.alias("earlier")
    blocked = exists().where(
        earlier.c.configuration_id == candidate.c.configuration_id,
        earlier.c.record_type == candidate.c.record_type,
        earlier.c.record_id == candidate.c.record_id,
        earlier.c.id < candidate.c.id,
        earlier.c.status.in_(UNFINISHED),
    )
    due = or_(
        and_(candidate.c.status == "pending", candidate.c.available_at <= at),
        and_(candidate.c.status == "running", candidate.c.lease_expires_at < at),
    )
    pick = select(candidate.c.id).where(due, ~blocked).order_by(candidate.c.id).limit(limit)
    if skip_configurations:
        pick = pick.where(candidate.c.configuration_id.not_in(skip_configurations))
    async with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True, of=candidate)
        statement = (
            update(_JOBS)
            .where(_JOBS.c.id.in_(pick.scalar_subquery()))
            .values(
                status="running",
                lease_owner=owner,
                lease_expires_at=at + lease_seconds,
                attempts=_JOBS.c.attempts + 1,
                updated_at=datetime.now(UTC),
            )
            .returning(*_JOBS.c)
        )
        rows = (await session.execute(statement)).all()
    return sorted((_claimed(row) for row in rows), key=lambda job: job.id)


@dataclass
class Outcome:
    """How one claimed job ended this time: ``done``, ``pending`` (retry at ``at``),
    ``failed``, or ``released`` (handed back unfinished, its attempt not counted)."""

    job: ClaimedJob
    status: Literal["done", "pending", "failed", "released"]
    at: float | None = None
    error_code: str | None = None
    error: str | None = None

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": datetime.now(UTC),
            **self.job.progress.values(),
        }
        if self.status == "done":
            values.update(
                status="done", last_error=None, last_error_code=None, completed_at=datetime.now(UTC)
            )
        elif self.status == "failed":
            values.update(
                status="failed",
                last_error=self.error,
                last_error_code=self.error_code,
                completed_at=datetime.now(UTC),
            )
        elif self.status == "pending":
            values.update(
                status="pending",
                available_at=self.at,
                last_error=self.error,
                last_error_code=self.error_code,
            )
        else:
            values.update(status="pending", available_at=time.time(), attempts=_JOBS.c.attempts - 1)
        return values


async def record(
    sessions: async_sessionmaker[AsyncSession], owner: str, outcomes: list[Outcome]
) -> list[bool]:
    """Save outcomes in one transaction. Each is guarded by the lease: False for a job whose
    lease ``owner`` lost (another worker owns it now and its result counts)."""
    saved = []
    async with sessions() as session, session.begin():
        for outcome in outcomes:
            result = await session.execute(
                update(_JOBS)
                .where(
                    _JOBS.c.id == outcome.job.id,
                    _JOBS.c.lease_owner == owner,
                    _JOBS.c.status == "running",
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
            update(_JOBS)
            .where(
                _JOBS.c.id.in_(job_ids), _JOBS.c.lease_owner == owner, _JOBS.c.status == "running"
            )
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
                select(func.min(_JOBS.c.id)).where(
                    _JOBS.c.configuration_id == job.configuration_id,
                    _JOBS.c.record_type == job.record_type,
                    _JOBS.c.record_id == job.record_id,
                    _JOBS.c.id > job.id,
                    _JOBS.c.fields_written_at.is_not(None),
                )
            )
        ).scalar()
        return newer


# --- admin views -----------------------------------------------------------------------


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
