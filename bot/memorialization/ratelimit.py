"""Per-configuration rate limiting for CRM calls, and the retry delay policy.

The limiter is a token bucket in its GCRA form: every call reserves the next free slot, so
concurrent waiters line up instead of stampeding when tokens come back. Over any window of
``w`` seconds it lets through at most ``burst + rate * w`` calls. A CRM's retry hint pauses
the whole configuration, not just the job that saw it, and the calls resume at the rate,
not in a burst.

Hand-written rather than aiolimiter: that has no pause, and a limiter with the same rate and
burst lets 11 calls into the first second after a 5 s Retry-After where this one lets 2
(bench/limiter_bench.py). ``retry_delay`` stays a pure function rather than a tenacity
wait: the retry is durable (the delay is stored on the job row and survives restarts), so
there is no in-process loop for tenacity to run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

__all__ = ["TokenBucket", "RateLimiter", "retry_delay"]


class TokenBucket:
    """At most ``burst`` calls at once, refilled at ``rate`` calls per second."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._tat = 0.0  # theoretical arrival time of the next call
        self._paused_until = 0.0
        self._pause_epoch = 0

    def _reserve(self, now: float) -> float:
        """Take the next slot; seconds to wait for it."""
        tat = max(self._tat, now)
        wait = max(0.0, tat - self._tolerance - now)
        self._tat = tat + self._interval
        return wait

    async def acquire(self) -> None:
        """Wait until a call may go out."""
        while True:
            now = self._clock()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            epoch = self._pause_epoch
            wait = self._reserve(now)
            if wait > 0:
                await asyncio.sleep(wait)
            # a pause while we slept voids the slot: take a new one after the pause, so
            # waiters released together do not exceed the rate
            if epoch == self._pause_epoch:
                return

    def pause(self, seconds: float) -> None:
        """No call before ``seconds`` from now (the CRM's Retry-After)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self._pause_epoch += 1
            self._tat = max(self._tat, until + self._tolerance)

    @property
    def paused(self) -> bool:
        return self._clock() < self._paused_until


class RateLimiter:
    """One ``TokenBucket`` per configuration id."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket

    async def acquire(self, key: str) -> None:
        await self.bucket(key).acquire()

    def pause(self, key: str, seconds: float) -> None:
        self.bucket(key).pause(seconds)

    def paused_keys(self) -> list[str]:
        """Configurations waiting out a retry hint: the worker claims none of their jobs."""
        return [key for key, bucket in self._buckets.items() if bucket.paused]


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff with equal jitter (half
    fixed, half random, so retries of many jobs spread out), capped at ``cap``. A CRM's retry
    hint is a floor: we never come back earlier than it asked, even beyond ``cap``."""
    rng = rng or random.Random()
    ceiling = min(cap, base * 2.0 ** max(0, attempt - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, retry_after + rng.uniform(0, min(1.0, base / 2)))
    return delay
