"""A CRM's call quota as the simulators enforce it: at most ``limit`` calls in any rolling
``window`` seconds (HubSpot's ten-secondly policy), counting the calls it refuses."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["RollingQuota"]


class RollingQuota:
    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.refused = 0
        self.accepted = 0
        self._clock = clock
        self._calls: deque[float] = deque()

    def take(self) -> int | None:
        """Count one call: the calls left in the window after it, ``None`` when the window
        is full (the call is refused and not counted against the quota)."""
        now = self._clock()
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()
        if len(self._calls) >= self.limit:
            self.refused += 1
            return None
        self._calls.append(now)
        self.accepted += 1
        return self.limit - len(self._calls)
