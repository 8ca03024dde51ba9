"""A sliding log of calls: at most ``limit`` in any ``period`` seconds, the way Teams counts
its Bot Connector windows (bench/limiter_bench.py: why not a bucket)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.period, self._clock = limit, period, clock
        self._events: deque[float] = deque()

    def wait_time(self) -> float:
        now = self._clock()
        # (1e-9: a clock advanced by exactly the wait may land a rounding error short)
        while self._events and now - self._events[0] >= self.period - 1e-9:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self.period - (now - self._events[0])

    def record(self) -> None:
        self._events.append(self._clock())
