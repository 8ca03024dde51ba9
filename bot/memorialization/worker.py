"""The durable CRM writer: claims outbox jobs (``leases``) and writes them through the CRM
adapters (``job_writer``: one job is one target record), saving each outcome
(``outcome_writer``).

Failures: retryable CRM errors (``CrmError.retryable``: unavailable, timed out, throttled)
and unexpected exceptions are retried with exponential backoff and jitter, never earlier than
the CRM's retry hint; other errors (rejected, not found, auth) and the last allowed attempt
mark the job failed, with its error, until an admin retries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import AppError, CrmRateLimitedError
from crm.http import safe_text

from ..settings import Settings
from ..storage.sqlite_engine import background_writes
from . import leases
from .job_writer import AdapterProvider, JobWriter
from .jobs import ClaimedJob, Outcome
from .outcome_writer import OutcomeWriter
from .ratelimit import RateLimiter, retry_delay

__all__ = ["AdapterProvider", "WorkerOptions", "MemorializationWorker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    max_attempts: int = 12
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 900.0
    lease_seconds: float = 60.0
    rate_per_second: float = 5.0  # CRM calls per configuration (this process)
    burst: int = 10
    concurrency: int = 32  # jobs in flight
    grace_seconds: float = 10.0
    poll_seconds: float = 0.5
    call_timeout_seconds: float = 30.0
    metadata_cache_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            max_attempts=settings.memorialization_max_attempts,
            backoff_base_seconds=settings.memorialization_backoff_base_seconds,
            backoff_max_seconds=settings.memorialization_backoff_max_seconds,
            lease_seconds=settings.memorialization_lease_seconds,
            rate_per_second=settings.memorialization_rate_per_second,
            burst=settings.memorialization_burst,
            concurrency=settings.memorialization_concurrency,
            grace_seconds=settings.memorialization_grace_seconds,
            call_timeout_seconds=settings.crm_timeout_seconds * 2,
        )


class MemorializationWorker:
    """Runs in the service process: ``await worker.start()`` after migrations,
    ``await worker.stop()`` on shutdown. ``notify()`` after committing new jobs wakes it
    before its next poll."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: AdapterProvider,
        options: WorkerOptions | None = None,
        *,
        owner: str | None = None,
        rng: random.Random | None = None,
        on_change: Callable[[str], object] | None = None,
    ) -> None:
        """``on_change(interaction_id)`` is called when a job of that interaction failed, or
        succeeded after an admin retry: the agent's card shows (or drops) its note."""
        self._sessions = sessions
        self._on_change = on_change
        self.options = options or WorkerOptions()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._rng = rng or random.Random()
        self.limiter = RateLimiter(
            self.options.rate_per_second, self.options.burst, first_alone=True
        )
        self._writer = JobWriter(
            sessions,
            adapters,
            self.limiter,
            call_timeout_seconds=self.options.call_timeout_seconds,
            pause_seconds=self.options.backoff_base_seconds,
            metadata_cache_seconds=self.options.metadata_cache_seconds,
        )
        self._outcomes = OutcomeWriter(sessions, self.owner)
        # claim in batches of at least this many free slots (fewer claim transactions)
        self._claim_threshold = max(1, self.options.concurrency // 4)
        self._inflight: dict[int, tuple[ClaimedJob, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        # nobody watches these writes happen: on SQLite they let waiting ones go first
        with background_writes():  # (the tasks, and theirs, keep this context)
            self._loop_task = asyncio.create_task(self._loop(), name="memorialization-worker")
            self._heartbeat_task = asyncio.create_task(
                self._heartbeat(), name="memorialization-heartbeat"
            )

    def notify(self) -> None:
        """New jobs were committed: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; let jobs in flight finish within the grace period, then cancel the
        rest, which hands them back (released, attempt not counted) for another worker."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        tasks = [task for _, task in self._inflight.values()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.options.grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._writer.aclose()
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            await asyncio.gather(self._heartbeat_task, return_exceptions=True)

    # --- loop ------------------------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stopping:
            # cleared before claiming, so a job finishing meanwhile still wakes us
            self._wake.clear()
            free = self.options.concurrency - len(self._inflight)
            if free >= self._claim_threshold or not self._inflight:
                try:
                    await self._claim_batch()
                except Exception:  # the database went away: keep the loop, try again
                    log.exception("memorialization: claiming jobs failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.poll_seconds)

    async def _claim_batch(self) -> int:
        free = self.options.concurrency - len(self._inflight)
        if free <= 0 or self._stopping:
            return 0
        jobs = await leases.claim(
            self._sessions,
            self.owner,
            limit=free,
            lease_seconds=self.options.lease_seconds,
            skip_configurations=self.limiter.paused_keys(),
        )
        for job in jobs:
            task = asyncio.create_task(self._run(job), name=f"memorialization-{job.id}")
            self._inflight[job.id] = (job, task)
            task.add_done_callback(functools.partial(self._finished, job.id))
        return len(jobs)

    def _finished(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(job_id, None)
        self._wake.set()

    async def _heartbeat(self) -> None:
        # leases outlive slow CRMs and rate-limit waits as long as this process is alive
        interval = max(0.05, self.options.lease_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await leases.renew_leases(
                    self._sessions, self.owner, list(self._inflight), self.options.lease_seconds
                )
            except Exception:
                log.exception("memorialization: renewing leases failed")

    # --- one job ---------------------------------------------------------------------

    async def _run(self, job: ClaimedJob) -> None:
        try:
            await self._attempt(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            # recording the outcome failed (database gone): the lease expires and the job
            # is claimed again, so log and let it be
            log.exception("memorialization job %s: could not record the outcome", job.id)

    async def _attempt(self, job: ClaimedJob) -> None:
        try:
            if job.attempts > self.options.max_attempts:
                # claimed again after its worker died on every attempt
                await self._outcomes.save(
                    Outcome(
                        job,
                        "failed",
                        error_code="lease_expired",
                        error=f"Gave up after {job.attempts - 1} attempts.",
                    )
                )
                return
            await self._writer.write(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._outcomes.save(Outcome(job, "released")))
            raise
        except AppError as exc:
            await self._after_error(job, exc, exc.retryable, exc.code, self._describe(exc))
        except Exception as exc:
            log.exception("memorialization job %s failed unexpectedly", job.id)
            await self._after_error(
                job, exc, True, "internal_error", f"Internal error ({type(exc).__name__})."
            )
        else:
            job.progress.result["worker"] = self.owner
            if not await self._outcomes.save(Outcome(job, "done")):
                log.warning("memorialization job %s: lease lost before completion", job.id)
            elif job.progress.result.get("retried"):
                self._changed(job)

    async def _after_error(
        self, job: ClaimedJob, exc: BaseException, retryable: bool, code: str, message: str
    ) -> None:
        if retryable and job.attempts < self.options.max_attempts:
            hint = exc.retry_after if isinstance(exc, CrmRateLimitedError) else None
            delay = retry_delay(
                job.attempts,
                base=self.options.backoff_base_seconds,
                cap=self.options.backoff_max_seconds,
                retry_after=hint,
                rng=self._rng,
            )
            log.info(
                "memorialization job %s: attempt %s failed (%s), next in %.1fs",
                job.id,
                job.attempts,
                code,
                delay,
            )
            await self._outcomes.save(Outcome(job, "pending", time.time() + delay, code, message))
            return
        log.warning(
            "memorialization job %s failed after %s attempts: %s", job.id, job.attempts, code
        )
        if await self._outcomes.save(Outcome(job, "failed", error_code=code, error=message)):
            self._changed(job)

    def _changed(self, job: ClaimedJob) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(job.interaction_id)
        except Exception:
            log.exception("memorialization: on_change failed for job %s", job.id)

    @staticmethod
    def _describe(exc: AppError) -> str:
        vendor = getattr(exc, "vendor_message", None)
        text = exc.detail or exc.code
        if vendor:
            text = f"{text} ({vendor})"
        return safe_text(text, 1000)

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    def describe(self) -> dict[str, Any]:
        """A small status view for health checks."""
        return {
            "owner": self.owner,
            "inflight": self.inflight,
            "pausedConfigurations": self.limiter.paused_keys(),
        }
