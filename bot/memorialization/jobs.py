"""A claimed memorialization job as the worker holds it, and how one attempt ended: plain
data, and the column values each outcome saves (``leases.record`` writes them)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Table

from ..storage.job_tables import MemorializationJobRow

__all__ = ["JOBS", "ClaimedJob", "Outcome", "Progress", "claimed_job"]

JOBS = cast(Table, MemorializationJobRow.__table__)


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


def claimed_job(row: Any) -> ClaimedJob:
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
            values.update(status="pending", available_at=time.time(), attempts=JOBS.c.attempts - 1)
        return values
