"""Outbound Bot Connector calls within Teams' rate limits, retried on 429/412/502/504.

Teams allows a bot about 7 sends per second, 60 per 30 s and 1800 per hour in one
conversation (updates count too), and 50 requests per second per app in one tenant.
``ConnectorPolicy.run`` waits for room in every window before a call and retries the
retryable statuses (tenacity) with exponential backoff and jitter, honouring ``Retry-After``.

The windows are hand-written sliding logs rather than aiolimiter's leaky bucket: a bucket
of 60 per 30 s lets a full bucket through and then refills, which puts up to ~120 calls
into one 30 s window (bench/limiter_bench.py measures it); Teams counts the window itself.

When a tenant's window is full, a new card (``first=True``) goes before updates of cards
already posted: the agent who is waiting for a card gets it first, and the updates wait
(CardSync coalesces them meanwhile). The windows live in process memory: each replica
keeps its own count, which is safe because one interaction's card is updated by whichever
replica handles it, a few calls at a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from crm.http import parse_retry_after

__all__ = ["ConnectorPolicy", "SlidingWindow", "RETRYABLE_STATUSES"]

T = TypeVar("T")
W = TypeVar("W")
RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})
PER_CONVERSATION = ((7, 1.0), (60, 30.0), (1800, 3600.0))
PER_TENANT = (50, 1.0)  # per app per tenant
_MAX_REMEMBERED = 10_000  # conversations and tenants; the oldest idle ones are forgotten


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.period, self._clock = limit, period, clock
        self._events: deque[float] = deque()

    def wait_time(self) -> float:
        now = self._clock()
        while self._events and now - self._events[0] >= self.period:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self.period - (now - self._events[0])

    def record(self) -> None:
        self._events.append(self._clock())


class ConnectorPolicy:
    def __init__(
        self,
        *,
        app_rate: tuple[int, float] = PER_TENANT,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        on_retry: Callable[[int], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._app_rate = app_rate
        self._tenants: dict[str, SlidingWindow] = {}
        self._conversations: dict[str, list[SlidingWindow]] = {}
        self._first_waiting: dict[str, int] = {}  # tenant -> new cards waiting for room
        self._lock = asyncio.Lock()
        self._max_attempts = max_attempts
        self._base, self._max = base_delay, max_delay
        self._on_retry = on_retry
        self._sleep = sleep

    async def run(
        self,
        conversation_id: str,
        call: Callable[[], Awaitable[T]],
        *,
        tenant_id: str = "",
        first: bool = False,
    ) -> T:
        """Run ``call`` within the rates of ``conversation_id`` and its tenant, retrying
        the retryable statuses. ``first``: it posts a new card (goes before updates)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retryable),
            stop=stop_after_attempt(self._max_attempts),
            wait=self._backoff,
            sleep=self._sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._acquire(conversation_id, tenant_id, first)
                return await call()
        raise AssertionError("unreachable: tenacity returns or re-raises")

    def _backoff(self, state: RetryCallState) -> float:
        """Exponential with equal jitter (spreads retrying replicas); ``Retry-After`` is a
        floor."""
        delay = min(self._max, self._base * 2.0 ** (state.attempt_number - 1))
        delay = delay / 2 + random.uniform(0, delay / 2)
        return max(delay, _retry_after(state) or 0.0)

    def _note_retry(self, state: RetryCallState) -> None:
        if self._on_retry and state.outcome is not None:
            error = state.outcome.exception()
            if isinstance(error, aiohttp.ClientResponseError):
                self._on_retry(error.status)

    async def _acquire(self, conversation_id: str, tenant_id: str, first: bool) -> None:
        if first:
            self._first_waiting[tenant_id] = self._first_waiting.get(tenant_id, 0) + 1
        try:
            while True:
                async with self._lock:
                    tenant = _remembered(
                        self._tenants,
                        tenant_id,
                        lambda: SlidingWindow(*self._app_rate, self._clock),
                    )
                    windows = _remembered(
                        self._conversations,
                        conversation_id,
                        lambda: [SlidingWindow(n, p, self._clock) for n, p in PER_CONVERSATION],
                    )
                    wait = max([tenant.wait_time()] + [w.wait_time() for w in windows])
                    if wait <= 0 and not first and self._first_waiting.get(tenant_id):
                        wait = tenant.period / tenant.limit  # a new card takes this slot
                    if wait <= 0:
                        tenant.record()
                        for window in windows:
                            window.record()
                        return
                await self._sleep(wait)
        finally:
            if first:
                self._first_waiting[tenant_id] -= 1
                if not self._first_waiting[tenant_id]:
                    del self._first_waiting[tenant_id]


def _retryable(error: BaseException) -> bool:
    return isinstance(error, aiohttp.ClientResponseError) and error.status in RETRYABLE_STATUSES


def _retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    if not isinstance(error, aiohttp.ClientResponseError) or not error.headers:
        return None
    return parse_retry_after(error.headers.get("Retry-After"))


def _remembered(table: dict[str, W], key: str, make: Callable[[], W]) -> W:
    found = table.get(key)
    if found is None:
        found = table[key] = make()
        if len(table) > _MAX_REMEMBERED:
            table.pop(next(iter(table)))
    return found
