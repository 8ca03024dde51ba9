"""Writes one job to its CRM: the record's mapped field values and its timeline activity,
in one ``write_record`` call (one request where the vendor has a composite or batch API).
What was written is noted on the job's progress, so a retried job skips finished steps; the
timeline activity carries the job's idempotency key, and once an attempt may have sent it
the adapter looks that key up first, so an activity created just before a crash or a
timeout is found instead of created twice.

Every CRM call is within the configuration's rate and bounded in time. Every reply's quota
(its rate-limit headers, read by the adapter: ``crm.http.observe_response``) paces the
configuration's limiter, and the job counts its CRM calls (``result.crmCalls``). A throttling
reply pauses the whole configuration for as long as the CRM asked (or its quota says); a
short pause is waited out within the job and the call tried again, a long one hands the job
back to the worker's durable retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_none

from crm.errors import CrmRateLimitedError, CrmUnavailableError
from crm.http import Quota, observing_responses
from crm.mappings import FieldMapping
from crm.models import FieldValue, RecordWrite, TimelineRef
from crm.protocol import BatchWriting, CrmAdapter, WriteOutcome
from crm.record_write import batch_limit

from . import leases
from .jobs import ClaimedJob
from .metadata_cache import MetadataCache
from .ratelimit import RateLimiter, quota_pace
from .snapshot import InteractionSnapshot, TargetRecord
from .timeline import build_activity
from .values import map_fields
from .write_batcher import Queued, WriteBatcher

__all__ = ["AdapterProvider", "JobWriter"]

AdapterProvider = Callable[[str], Awaitable[CrmAdapter]]  # configuration id -> adapter
T = TypeVar("T")

THROTTLED_TRIES = 4  # a throttled call: tries within the job, each after the pause ...
MAX_INLINE_WAIT = 30.0  # ... while the pause is this short (else the job is rescheduled)


class _CallMeter:
    """One job's CRM replies: counted, and each reply's quota handed to the limiter."""

    def __init__(self, limiter: RateLimiter, configuration_id: str) -> None:
        self.configuration_id = configuration_id
        self.calls = 0.0  # a batch's requests are shared among its jobs
        self.last_quota: Quota | None = None
        self.in_slot = 0  # replies to the current limiter slot
        self.bucket = limiter.bucket(configuration_id)

    def __call__(self, quota: Quota | None) -> None:
        self.calls += 1
        self.in_slot += 1
        self.last_quota = quota
        if quota is not None:
            self.bucket.observe(quota)


def _activity_may_exist(job: ClaimedJob) -> bool:
    """Whether an earlier attempt may have sent the job's activity, so the adapter must look
    its key up before creating it: an attempt that sent it noted so on the job (saved with
    its outcome: retried, failed, handed back); one that died before saving anything left
    the claim's attempt count above one."""
    return job.attempts > 1 or bool(job.progress.result.get("activitySent"))


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
        self._batcher = WriteBatcher()

    async def aclose(self) -> None:
        """Stop the batch senders (at shutdown, after the jobs in flight)."""
        await self._batcher.aclose()

    async def write(self, job: ClaimedJob) -> None:
        snapshot = InteractionSnapshot.model_validate(job.payload["snapshot"])
        target = TargetRecord(record_type=job.record_type, record_id=job.record_id)
        adapter = await self._adapters(job.configuration_id)
        meter = _CallMeter(self._limiter, job.configuration_id)
        try:
            with observing_responses(meter):
                await self._write(job, adapter, snapshot, target, meter)
        finally:
            # every attempt's calls: what the job cost the CRM's quota
            calls = job.progress.result.get("crmCalls", 0) + meter.calls
            job.progress.result["crmCalls"] = round(calls, 3)

    async def _write(
        self,
        job: ClaimedJob,
        adapter: CrmAdapter,
        snapshot: InteractionSnapshot,
        target: TargetRecord,
        meter: _CallMeter,
    ) -> None:
        """The steps still to do go to the CRM in one ``write_record`` call: one request
        where the vendor has a composite or batch API."""
        progress = job.progress
        result = progress.result
        values: dict[str, FieldValue] = {}
        if progress.fields_written_at is None:
            rules = [FieldMapping.model_validate(rule) for rule in job.payload.get("rules", [])]
            values = await self._field_values(job, adapter, snapshot, rules, meter)
        activity = None
        if progress.timeline_id is None and "skipped" not in result.get("timeline", {}):
            if await self._supports_timeline(job, adapter, meter):
                activity = build_activity(snapshot, target, job.timeline_key)
            else:
                result["timeline"] = {"skipped": "not_supported"}
        if values or activity is not None:
            write = RecordWrite(
                record_type=job.record_type,
                record_id=job.record_id,
                fields=values,
                activity=activity,
                activity_may_exist=_activity_may_exist(job),
            )
            if activity is not None:
                result["activitySent"] = True  # saved with the attempt's outcome, crash aside
            limit = batch_limit(adapter)
            if isinstance(adapter, BatchWriting) and limit > 1:
                ref = await self._write_batched(job, adapter, write, limit, meter)
            else:
                ref = await self._call(meter, lambda: adapter.write_record(write))
            if ref is not None:
                progress.timeline_id = ref.id
                result["timeline"] = {"type": ref.type, "created": ref.created}
        if progress.fields_written_at is None:
            progress.fields_written_at = time.time()

    async def _write_batched(
        self,
        job: ClaimedJob,
        adapter: BatchWriting,
        write: RecordWrite,
        limit: int,
        job_meter: _CallMeter,
    ) -> TimelineRef | None:
        """The write joins its configuration's next batch; the job is charged its share of
        the batch's requests."""

        async def send(take: Callable[[], list[Queued]]) -> None:
            meter = _CallMeter(self._limiter, job.configuration_id)
            batch: list[Queued] = []

            async def call() -> list[WriteOutcome]:
                if not batch:  # the first try takes the writes; a throttled retry keeps them
                    batch.extend(take())
                return await adapter.write_records([item.write for item in batch])

            with observing_responses(meter):
                outcomes = await self._call(meter, call)
            share = meter.calls / max(1, len(batch))
            for item, outcome in zip(batch, outcomes, strict=True):
                item.settle(outcome, share)

        ref, share = await self._batcher.write(job.configuration_id, write, limit, send)
        job_meter.calls += share
        return ref

    async def _supports_timeline(
        self, job: ClaimedJob, adapter: CrmAdapter, meter: _CallMeter
    ) -> bool:
        """False only when the CRM says the record type takes no activities (a type it does
        not list is tried: the adapter's answer is the final word)."""
        types = await self._metadata.get(
            (job.configuration_id, "record-types"),
            lambda: self._call(meter, adapter.list_record_types),
        )
        wanted = job.record_type.lower()
        return all(t.supports_timeline for t in types if t.name.lower() == wanted)

    async def _field_values(
        self,
        job: ClaimedJob,
        adapter: CrmAdapter,
        snapshot: InteractionSnapshot,
        rules: list[FieldMapping],
        meter: _CallMeter,
    ) -> dict[str, FieldValue]:
        """The mapped values to write (noting on the job what was mapped, cut or skipped);
        none when there are no rules or a newer job has written the record since."""
        result = job.progress.result
        if not rules:
            result["fields"] = []
            return {}
        if result.get("retried"):
            newer = await leases.newer_fields_written(self._sessions, job)
            if newer is not None:
                result["fields"] = []
                result["supersededBy"] = newer
                return {}
        fields = await self._metadata.get(
            (job.configuration_id, "fields", job.record_type.lower()),
            lambda: self._call(meter, lambda: adapter.list_fields(job.record_type)),
        )
        mapped = map_fields(snapshot, rules, fields)
        result.update(mapped.result())
        return dict(mapped.values)

    async def _call(self, meter: _CallMeter, call: Callable[[], Awaitable[T]]) -> T:
        """One CRM call; throttled, it is tried again after the pause while that is short
        (updates and idempotent timeline writes are safe to repeat; a throttled call did
        nothing)."""
        bucket = self._limiter.bucket(meter.configuration_id)

        def wait_inline(exc: BaseException) -> bool:
            return isinstance(exc, CrmRateLimitedError) and bucket.pause_left <= MAX_INLINE_WAIT

        # the first try outside tenacity's loop: with every call inside it,
        # bench/memorialization_bench.py saw 27 calls in 100 ms where 25 are allowed
        try:
            return await self._call_once(meter, call)
        except CrmRateLimitedError as exc:
            if not wait_inline(exc):
                raise
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(wait_inline),
            stop=stop_after_attempt(THROTTLED_TRIES - 1),
            wait=wait_none(),  # the limiter waits out the pause before the next try
            reraise=True,
        ):
            with attempt:
                return await self._call_once(meter, call)
        raise AssertionError("unreachable: tenacity returns or re-raises")

    async def _call_once(self, meter: _CallMeter, call: Callable[[], Awaitable[T]]) -> T:
        await self._limiter.acquire(meter.configuration_id)
        meter.last_quota, meter.in_slot = None, 0
        try:
            async with asyncio.timeout(self._call_timeout):
                return await call()
        except TimeoutError:
            raise CrmUnavailableError("The CRM did not answer in time", timed_out=True) from None
        except CrmRateLimitedError as exc:
            quota = meter.last_quota
            if quota is None or quota_pace(quota).pause <= 0:
                # the reply's headers set no pause (the limiter has what they did say)
                pause = exc.retry_after if exc.retry_after is not None else self._pause
                self._limiter.pause(meter.configuration_id, pause)
            raise
        finally:
            meter.bucket.requests_on_slot(meter.in_slot)
            meter.bucket.replied()
