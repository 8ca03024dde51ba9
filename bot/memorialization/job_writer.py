"""Writes one job to its CRM: first the record's mapped field values, then its timeline
activity. What was written is noted on the job's progress, so a retried job skips finished
steps; the timeline activity carries the job's idempotency key, so an activity created just
before a crash or a timeout is found by the adapter instead of created twice.

Every CRM call is within the configuration's rate and bounded in time; a throttling reply
pauses the whole configuration for as long as the CRM asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import CrmRateLimitedError, CrmUnavailableError
from crm.mappings import FieldMapping
from crm.protocol import CrmAdapter

from . import leases
from .jobs import ClaimedJob
from .metadata_cache import MetadataCache
from .ratelimit import RateLimiter
from .snapshot import InteractionSnapshot, TargetRecord
from .timeline import build_activity
from .values import map_fields

__all__ = ["AdapterProvider", "JobWriter"]

AdapterProvider = Callable[[str], Awaitable[CrmAdapter]]  # configuration id -> adapter
T = TypeVar("T")


class JobWriter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: AdapterProvider,
        limiter: RateLimiter,
        *,
        call_timeout_seconds: float,
        pause_seconds: float,
        metadata_cache_seconds: float,
    ) -> None:
        """``pause_seconds``: how long a configuration pauses after a throttling reply
        that names no time."""
        self._sessions = sessions
        self._adapters = adapters
        self._limiter = limiter
        self._call_timeout = call_timeout_seconds
        self._pause = pause_seconds
        self._metadata = MetadataCache(metadata_cache_seconds)

    async def write(self, job: ClaimedJob) -> None:
        snapshot = InteractionSnapshot.model_validate(job.payload["snapshot"])
        target = TargetRecord(record_type=job.record_type, record_id=job.record_id)
        adapter = await self._adapters(job.configuration_id)
        progress = job.progress
        if progress.fields_written_at is None:
            rules = [FieldMapping.model_validate(rule) for rule in job.payload.get("rules", [])]
            await self._write_fields(job, adapter, snapshot, rules)
            progress.fields_written_at = time.time()
        if progress.timeline_id is None and "skipped" not in progress.result.get("timeline", {}):
            if not await self._supports_timeline(job, adapter):
                progress.result["timeline"] = {"skipped": "not_supported"}
                return
            activity = build_activity(snapshot, target, job.timeline_key)
            ref = await self._call(job.configuration_id, lambda: adapter.add_timeline(activity))
            progress.timeline_id = ref.id
            progress.result["timeline"] = {"type": ref.type, "created": ref.created}

    async def _supports_timeline(self, job: ClaimedJob, adapter: CrmAdapter) -> bool:
        """False only when the CRM says the record type takes no activities (a type it does
        not list is tried: the adapter's answer is the final word)."""
        types = await self._metadata.get(
            (job.configuration_id, "record-types"),
            lambda: self._call(job.configuration_id, adapter.list_record_types),
        )
        wanted = job.record_type.lower()
        return all(t.supports_timeline for t in types if t.name.lower() == wanted)

    async def _write_fields(
        self,
        job: ClaimedJob,
        adapter: CrmAdapter,
        snapshot: InteractionSnapshot,
        rules: list[FieldMapping],
    ) -> None:
        result = job.progress.result
        if not rules:
            result["fields"] = []
            return
        if result.get("retried"):
            newer = await leases.newer_fields_written(self._sessions, job)
            if newer is not None:
                result["fields"] = []
                result["supersededBy"] = newer
                return
        fields = await self._metadata.get(
            (job.configuration_id, "fields", job.record_type.lower()),
            lambda: self._call(job.configuration_id, lambda: adapter.list_fields(job.record_type)),
        )
        mapped = map_fields(snapshot, rules, fields)
        if mapped.values:
            await self._call(
                job.configuration_id,
                lambda: adapter.update(job.record_type, job.record_id, mapped.values),
            )
        result.update(mapped.result())

    async def _call(self, configuration_id: str, call: Callable[[], Awaitable[T]]) -> T:
        await self._limiter.acquire(configuration_id)
        try:
            async with asyncio.timeout(self._call_timeout):
                return await call()
        except TimeoutError:
            raise CrmUnavailableError("The CRM did not answer in time", timed_out=True) from None
        except CrmRateLimitedError as exc:
            pause = exc.retry_after if exc.retry_after is not None else self._pause
            self._limiter.pause(configuration_id, pause)
            raise
