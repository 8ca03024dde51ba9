"""Outbound Bot Connector calls within Teams' rate limits, retried on 429/412/502/504.

Teams allows a bot about 7 sends per second, 60 per 30 s and 1800 per hour in one
conversation (updates count too), and 50 requests per second per app in one tenant.
``ConnectorPolicy.run`` waits for room in the conversation's windows (``SlidingWindow``)
and then for a slot of the tenant (``TenantGate``: new cards before updates, a paused
tenant after a 429), and retries the retryable statuses (tenacity) with exponential
backoff and jitter, honouring ``Retry-After``. A 429 (Teams throttling) is retried far
longer than the other statuses (``max_throttled_attempts``): at the tenant limit a card
waits, it is not dropped.

The windows are hand-written sliding logs rather than aiolimiter's leaky bucket: a bucket
of 60 per 30 s lets a full bucket through and then refills, which puts up to ~120 calls
into one 30 s window (bench/limiter_bench.py measures it); Teams counts the window itself.
The windows live in process memory: each replica keeps its own count, which is safe
because one interaction's card is updated by whichever replica handles it, a few calls at
a time.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from crm.http import parse_retry_after

from .sliding_window import SlidingWindow
from .tenant_gate import TenantGate

__all__ = ["ConnectorPolicy", "SlidingWindow", "RETRYABLE_STATUSES"]

T = TypeVar("T")
W = TypeVar("W")
RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})
PER_CONVERSATION = ((7, 1.0), (60, 30.0), (1800, 3600.0))
PER_TENANT = (50, 1.0)  # per app per tenant
_MAX_REMEMBERED = 10_000  # conversations and tenants; the oldest idle ones are forgotten


class ConnectorPolicy:
    def __init__(
        self,
        *,
        app_rate: tuple[int, float] = PER_TENANT,
        max_attempts: int = 5,
        max_throttled_attempts: int = 40,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        on_retry: Callable[[int], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._app_rate = app_rate
        self._tenants: dict[str, TenantGate] = {}
        self._conversations: dict[str, list[SlidingWindow]] = {}
        self._max_attempts = max_attempts
        self._max_throttled = max(max_attempts, max_throttled_attempts)
        self._base, self._max = base_delay, max_delay
        self._on_retry = on_retry
        self._sleep = sleep

    def tenant(self, tenant_id: str) -> TenantGate:
        """The tenant's gate (its window, its queue of waiting calls)."""
        return _remembered(
            self._tenants,
            tenant_id,
            lambda: TenantGate(*self._app_rate, clock=self._clock, sleep=self._sleep),
        )

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
            stop=self._stop,
            wait=self._backoff,
            sleep=self._sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await self._acquire(conversation_id, tenant_id, first)
                try:
                    return await call()
                except aiohttp.ClientResponseError as error:
                    if error.status == 429:  # the whole tenant holds, not only this call
                        after = _retry_after_of(error)
                        self.tenant(tenant_id).pause(self._base if after is None else after)
                    raise
        raise AssertionError("unreachable: tenacity returns or re-raises")

    def _stop(self, state: RetryCallState) -> bool:
        """After ``max_attempts``; a 429 after ``max_throttled_attempts`` (the tenant is
        busy, the call is not wrong)."""
        error = state.outcome.exception() if state.outcome is not None else None
        throttled = isinstance(error, aiohttp.ClientResponseError) and error.status == 429
        return state.attempt_number >= (self._max_throttled if throttled else self._max_attempts)

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
        """Room in the conversation's windows, then the tenant's slot. Two calls of one
        conversation may pass the first check together; the one that then finds the
        conversation full lets its tenant slot go unused and waits again."""
        windows = _remembered(
            self._conversations,
            conversation_id,
            lambda: [SlidingWindow(n, p, self._clock) for n, p in PER_CONVERSATION],
        )
        while True:
            wait = max(w.wait_time() for w in windows)
            if wait > 0:
                await self._sleep(wait)
                continue
            await self.tenant(tenant_id).acquire(first=first)
            if max(w.wait_time() for w in windows) <= 0:
                for window in windows:
                    window.record()
                return


def _retryable(error: BaseException) -> bool:
    return isinstance(error, aiohttp.ClientResponseError) and error.status in RETRYABLE_STATUSES


def _retry_after(state: RetryCallState) -> float | None:
    error = state.outcome.exception() if state.outcome is not None else None
    return _retry_after_of(error) if isinstance(error, aiohttp.ClientResponseError) else None


def _retry_after_of(error: aiohttp.ClientResponseError) -> float | None:
    return parse_retry_after(error.headers.get("Retry-After")) if error.headers else None


def _remembered(table: dict[str, W], key: str, make: Callable[[], W]) -> W:
    found = table.get(key)
    if found is None:
        found = table[key] = make()
        if len(table) > _MAX_REMEMBERED:
            table.pop(next(iter(table)))
    return found
