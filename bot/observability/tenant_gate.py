"""Teams' per-tenant limit on Bot Connector calls (about 50 per second per app and tenant)
as one queue per tenant, beside the per-conversation windows of ``connector_policy``.

A call that finds the tenant's window full waits in the tenant's queue; one pump task per
tenant hands the slots out as the window (``SlidingWindow``) frees them:

* new cards (``first``) before updates of cards already posted: the agent waiting for a
  card gets it first, and the updates wait (the card delivery coalesces them meanwhile);
* yet not at the cost of updates forever: while both wait, every ``UPDATE_SHARE``-th slot
  goes to the oldest waiting update, so a backlog of updates drains even at a tenant
  demand above the limit;
* in arrival order within each class (fair between interactions);
* with a margin for the calls' way to Teams (``ARRIVAL_MARGIN``);
* after a ``429`` the whole tenant pauses for the connector's ``Retry-After`` (:meth:`pause`),
  not only the call that got it, then resumes at the window's rate.

Hand-written like ``SlidingWindow`` (bench/limiter_bench.py measures why a bucket is not
Teams' window); the queue makes one wake-up per slot instead of every waiter polling.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from .sliding_window import SlidingWindow

__all__ = ["TenantGate", "UPDATE_SHARE"]

UPDATE_SHARE = 10  # while new cards and updates both wait, one slot in this many is an update
# Teams counts calls as they arrive, a few milliseconds (more on a busy host) after the slot
# was granted; calls granted exactly a period apart can arrive closer together and draw a
# 429, which pauses the whole tenant for Retry-After (a second). The window is kept this
# much longer than Teams' period: 50 per 1.05 s, 95 % of the limit (bench/tenant_bench.py).
ARRIVAL_MARGIN = 0.05


class TenantGate:
    """At most ``limit`` calls in any ``period`` seconds for one tenant, new cards first."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        update_share: int = UPDATE_SHARE,
    ) -> None:
        self.window = SlidingWindow(limit, period * (1 + ARRIVAL_MARGIN), clock)
        self._clock, self._sleep = clock, sleep
        self._update_share = update_share
        self._firsts: deque[asyncio.Future[None]] = deque()
        self._updates: deque[asyncio.Future[None]] = deque()
        self._firsts_in_row = 0  # new cards granted in a row while updates waited
        self._paused_until = 0.0
        self._pump: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for f in (*self._firsts, *self._updates) if not f.done())

    def pause(self, seconds: float) -> None:
        """No call of this tenant before ``seconds`` from now (the connector's Retry-After)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def wait_time(self) -> float:
        return max(self.window.wait_time(), self._paused_until - self._clock())

    async def acquire(self, *, first: bool) -> None:
        """Wait for a slot of the tenant's window and take it."""
        if not self._firsts and not self._updates and self.wait_time() <= 0:
            self.window.record()
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._firsts if first else self._updates).append(granted)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run())
        await granted  # a cancelled waiter stays queued as a done future and is skipped

    async def _run(self) -> None:
        while self._firsts or self._updates:
            wait = self.wait_time()
            if wait > 0:
                await self._sleep(wait)
                continue
            granted = self._next()
            if granted is not None:
                self.window.record()
                granted.set_result(None)
                await asyncio.sleep(0)  # let the granted call start before the next grant

    def _next(self) -> asyncio.Future[None] | None:
        """The next live waiter: a new card, or an update when no new card waits or its
        share is due."""
        for queue in (self._firsts, self._updates):
            while queue and queue[0].done():
                queue.popleft()
        share_due = self._firsts_in_row >= self._update_share - 1
        if self._firsts and not (self._updates and share_due):
            self._firsts_in_row = self._firsts_in_row + 1 if self._updates else 0
            return self._firsts.popleft()
        self._firsts_in_row = 0
        return self._updates.popleft() if self._updates else None
