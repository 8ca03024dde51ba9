"""Why the two rate limiters stay hand-written: the same limits through aiolimiter, measured.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/limiter_bench.py

Runs on a virtual clock (no real waiting). Every limiter is offered calls as fast as it
admits them; the largest number admitted in any window is compared with the limit.

1. Bot Connector, 60 calls per 30 s in one conversation (Teams counts a sliding window):
   ``connector_policy.SlidingWindow`` against ``AsyncLimiter(60, 30)``.
2. Memorialization, a CRM's Retry-After of 5 s at rate 2/s, burst 10: the calls admitted in
   the first second after the pause, ``ratelimit.TokenBucket`` (resumes at the rate) against
   ``AsyncLimiter(10, 5)`` (the same rate and burst, but a pause it does not know of).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable

from aiolimiter import AsyncLimiter

from bot.memorialization.ratelimit import TokenBucket
from bot.observability.connector_policy import SlidingWindow

TICK = 0.01


class _VirtualLoop(asyncio.SelectorEventLoop):
    now = 0.0

    def time(self) -> float:
        return self.now


def _most_in_window(stamps: list[float], window: float) -> int:
    return max(bisect.bisect_left(stamps, s + window - 1e-9) - i for i, s in enumerate(stamps))


def _offer(
    admit: Callable[[], bool], clock: list[float], seconds: float, start: float = 0.0
) -> list[float]:
    stamps: list[float] = []
    clock[0] = start
    while clock[0] < seconds:
        while admit():
            stamps.append(clock[0])
        clock[0] += TICK
    return stamps


def sliding_window(seconds: float) -> list[float]:
    clock = [0.0]
    window = SlidingWindow(60, 30.0, clock=lambda: clock[0])

    def admit() -> bool:
        if window.wait_time() > 0:
            return False
        window.record()
        return True

    return _offer(admit, clock, seconds)


def leaky_bucket(
    loop: _VirtualLoop, max_rate: float, period: float, seconds: float, start: float = 0.0
) -> list[float]:
    async def offer() -> list[float]:
        limiter = AsyncLimiter(max_rate, period)
        stamps: list[float] = []
        loop.now = start
        while loop.now < seconds:
            while limiter.has_capacity():
                await limiter.acquire()  # has room: returns at once
                stamps.append(loop.now)
            loop.now += TICK
        return stamps

    return loop.run_until_complete(offer())


def token_bucket_after_pause() -> list[float]:
    clock = [0.0]
    bucket = TokenBucket(2.0, 10, clock=lambda: clock[0])
    bucket.pause(5.0)

    def admit() -> bool:
        # the slot math of TokenBucket.acquire, without sleeping: a call that would not
        # wait is admitted now
        now = clock[0]
        if bucket.paused or max(bucket._tat, now) - bucket._tolerance - now > 0:
            return False
        bucket._reserve(now)
        return True

    return _offer(admit, clock, 6.0)


def main() -> None:
    loop = _VirtualLoop()
    asyncio.set_event_loop(loop)
    stamps = sliding_window(120.0)
    print(f"SlidingWindow(60, 30 s): most calls in any 30 s = {_most_in_window(stamps, 30.0)}")
    stamps = leaky_bucket(loop, 60, 30.0, 120.0)
    print(f"AsyncLimiter(60, 30 s):  most calls in any 30 s = {_most_in_window(stamps, 30.0)}")
    after = token_bucket_after_pause()
    print(f"TokenBucket(2/s, burst 10), first second after a 5 s Retry-After: {len(after)}")
    bucket_loop = _VirtualLoop()
    asyncio.set_event_loop(bucket_loop)
    # the caller honours the pause itself and offers calls only from 5 s on
    after = leaky_bucket(bucket_loop, 10, 5.0, 6.0, start=5.0)
    print(f"AsyncLimiter(10, 5 s), first second after the same pause: {len(after)}")
    loop.close()
    bucket_loop.close()


if __name__ == "__main__":
    main()
