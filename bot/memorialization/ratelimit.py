"""Per-configuration rate limiting for CRM calls, and the retry delay policy.

The limiter is a token bucket in its GCRA form: every call reserves the next free slot, so
concurrent waiters line up instead of stampeding when tokens come back. Over any window of
``w`` seconds it lets through at most ``burst + rate * w`` calls. A CRM's retry hint pauses
the whole configuration, not just the job that saw it, and the calls resume at the rate,
not in a burst.

Hand-written rather than aiolimiter: that has no pause, and a limiter with the same rate and
burst lets 11 calls into the first second after a 5 s Retry-After where this one lets 2
(bench/limiter_bench.py). The CRM's own quota (``crm.http.Quota``, read from its rate-limit
headers on every reply) lowers the pace below the configured rate: what is left of a fixed
window is spread to its reset, a rolling window is used at its advertised rate, an empty
quota or a Retry-After pauses (``quota_pace``). ``retry_delay`` stays a pure function
rather than a tenacity wait: the retry is durable (the delay is stored on the job row and
survives restarts), so there is no in-process loop for tenacity to run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from crm.http import Quota

__all__ = ["Pace", "TokenBucket", "RateLimiter", "quota_pace", "retry_delay"]


@dataclass(frozen=True)
class Pace:
    """What a CRM's quota asks of the caller: no call for ``pause`` seconds; at most one
    call per ``interval`` seconds for the next ``valid_for`` seconds."""

    pause: float = 0.0
    interval: float | None = None
    valid_for: float = 0.0


def quota_pace(quota: Quota, per_slot: float = 1.0, cluster: int = 1) -> Pace:
    """Pure: the pace a reply's quota asks for; ``per_slot`` requests go out on one
    limiter slot on average (an adapter verb may make several), ``cluster`` at most.

    - Retry-After (or Oracle's next-request-after): pause that long.
    - Nothing left: pause to the window's reset; in a rolling window (no reset reported)
      until one call's share of it has passed (``window / limit``), as the oldest calls
      leave the window continuously.
    - Something left (pacing quotas only, not daily allowances): a fixed window's rest
      spread evenly to its reset (``per_slot * reset_in / remaining``); a rolling window
      at its advertised rate less ``cluster`` requests (``per_slot * window / (limit -
      cluster)``): a slot's requests go out together, arrive with jitter, and the CRM
      counts arrivals in any window."""
    pause = quota.retry_after or 0.0
    if quota.remaining is None:
        return Pace(pause=pause)
    if quota.remaining <= 0:
        if quota.reset_in is not None:
            pause = max(pause, quota.reset_in)
        elif quota.window and quota.limit:
            pause = max(pause, quota.window / quota.limit)
        return Pace(pause=pause)
    if not quota.paces:
        return Pace(pause=pause)
    if quota.reset_in is not None and quota.reset_in > 0:
        return Pace(pause, per_slot * quota.reset_in / quota.remaining, quota.reset_in)
    if quota.window and quota.limit:
        held_back = min(max(1, cluster), quota.limit - 1)
        return Pace(pause, per_slot * quota.window / (quota.limit - held_back), quota.window)
    return Pace(pause=pause)


class TokenBucket:
    """At most ``burst`` calls at once, refilled at ``rate`` calls per second."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        *,
        first_alone: bool = False,
    ) -> None:
        """``first_alone``: the first call goes out alone and the others wait for
        ``replied()``, so a CRM that reports its quota on every reply is never hit by a
        burst before it has told it."""
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._tat = 0.0  # theoretical arrival time of the next call
        self._paused_until = 0.0
        self._quota_interval = 0.0  # the CRM's pace, while it is slower than ours ...
        self._quota_until = 0.0  # ... until then
        # the first call goes alone: its reply tells the quota before the others go out
        self._first_reply = asyncio.Event()
        if not first_alone:
            self._first_reply.set()
        self._probing = False
        self._cluster = 1  # most requests seen on one slot
        self._per_slot = 1.0  # requests per slot, a moving average ...
        self._slots = 0  # ... of this many slots

    def _reserve(self, now: float) -> float:
        """Take the next slot; seconds to wait for it. Paced by the CRM's quota, calls are
        spaced at its interval with no burst on top (the quota already counts them)."""
        interval, tolerance = self._spacing(now)
        tat = max(self._tat, now)
        wait = max(0.0, tat - tolerance - now)
        self._tat = tat + interval
        return wait

    def _spacing(self, now: float) -> tuple[float, float]:
        """The interval between calls and the burst tolerance now."""
        if now < self._quota_until and self._quota_interval > self._interval:
            return self._quota_interval, 0.0
        return self._interval, self._tolerance

    def requests_on_slot(self, count: int) -> None:
        """A slot's call made ``count`` requests (an adapter verb may make several): the
        quota's pace counts slots in requests."""
        if count < 1:
            return
        self._cluster = max(self._cluster, count)
        self._slots += 1  # the mean of the first ten, then a moving average
        self._per_slot += max(0.1, 1 / self._slots) * (count - self._per_slot)

    def replied(self) -> None:
        """A call came back (with or without a reply): calls held for the first go on."""
        self._first_reply.set()

    def observe(self, quota: Quota) -> None:
        """A reply's quota: pace (and pause) as ``quota_pace`` says."""
        pace = quota_pace(quota, self._per_slot, self._cluster)
        if pace.pause > 0:
            self.pause(pace.pause)
        if pace.interval is not None:
            self._quota_interval = pace.interval
            self._quota_until = self._clock() + pace.pause + pace.valid_for

    async def acquire(self) -> None:
        """Wait until a call may go out."""
        if not self._first_reply.is_set():
            if self._probing:
                await self._first_reply.wait()
            self._probing = True
        while True:
            now = self._clock()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            wait = self._reserve(now)
            if wait > 0:
                await asyncio.sleep(wait)
            # a pause that began while we slept voids a slot inside it: take a new one
            # after the pause (slots beyond it stay good), so waiters released together
            # do not exceed the rate
            if self._paused_until <= now + wait:
                return

    def pause(self, seconds: float) -> None:
        """No call before ``seconds`` from now (the CRM's Retry-After)."""
        until = self._clock() + max(0.0, seconds)
        if until > self._paused_until:
            self._paused_until = until
            self._tat = max(self._tat, until + self._spacing(until)[1])

    @property
    def paused(self) -> bool:
        return self._clock() < self._paused_until

    @property
    def pause_left(self) -> float:
        """Seconds until the current pause ends (0 when there is none)."""
        return max(0.0, self._paused_until - self._clock())


class RateLimiter:
    """One ``TokenBucket`` per configuration id."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        *,
        first_alone: bool = False,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._first_alone = first_alone
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(
                self._rate, self._burst, self._clock, first_alone=self._first_alone
            )
        return bucket

    async def acquire(self, key: str) -> None:
        await self.bucket(key).acquire()

    def pause(self, key: str, seconds: float) -> None:
        self.bucket(key).pause(seconds)

    def observe(self, key: str, quota: Quota) -> None:
        self.bucket(key).observe(quota)

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
