"""The token bucket and the retry delay policy."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from bot.memorialization.ratelimit import Pace, RateLimiter, TokenBucket, quota_pace, retry_delay
from crm.http import Quota


async def _acquire_all(bucket: TokenBucket, count: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        await bucket.acquire()
        times.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(count)))
    return sorted(times)


def _max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_concurrent_waiters_are_spaced_at_the_rate_after_the_burst():
    rate, burst = 100.0, 3
    times = await _acquire_all(TokenBucket(rate, burst), 13)
    assert times[-1] - times[0] >= (13 - burst) / rate - 0.005
    # never more than burst + rate * window in any window
    assert _max_in_window(times, 0.05) <= burst + rate * 0.05


async def test_a_pause_holds_every_call_until_it_ends_and_keeps_the_spacing():
    bucket = TokenBucket(200.0, 1)
    waiting = asyncio.ensure_future(_acquire_all(bucket, 4))
    await asyncio.sleep(0)
    bucket.pause(0.1)
    paused_at = time.monotonic()
    assert bucket.paused
    times = await waiting
    # the first call may have gone out before the pause; the others waited it out
    assert all(t >= paused_at + 0.1 - 0.002 for t in times[1:])
    assert times[-1] - times[1] >= 2 / 200.0 - 0.002
    assert not bucket.paused


def test_limiter_keeps_one_bucket_per_configuration_and_reports_pauses():
    limiter = RateLimiter(5.0, 1)
    limiter.pause("cfg-a", 30)
    assert limiter.paused_keys() == ["cfg-a"]
    assert limiter.bucket("cfg-b") is limiter.bucket("cfg-b")
    assert limiter.bucket("cfg-a") is not limiter.bucket("cfg-b")


def test_bucket_refuses_nonsense():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)


def test_retry_delay_doubles_with_jitter_up_to_the_cap():
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 60.0), (20, 60.0)]:
        delays = [retry_delay(attempt, base=2.0, cap=60.0, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_retry_delay_never_comes_back_before_the_crms_hint():
    rng = random.Random(1)
    assert retry_delay(1, base=2.0, cap=60.0, retry_after=120.0, rng=rng) >= 120.0
    assert retry_delay(5, base=2.0, cap=60.0, retry_after=0.5, rng=rng) >= 16.0


@pytest.mark.parametrize(
    ("quota", "per_slot", "cluster", "expected"),
    [
        # a fixed window: what is left spread to its reset, counted in requests per slot
        (Quota(remaining=10, limit=100, window=60, reset_in=20.0), 1.0, 1, Pace(0, 2.0, 20.0)),
        (Quota(remaining=10, limit=100, window=60, reset_in=20.0), 1.5, 2, Pace(0, 3.0, 20.0)),
        # a rolling window at its advertised rate, less a slot's cluster of requests
        (Quota(remaining=150, limit=190, window=10.0), 1.0, 1, Pace(0, 10 / 189, 10.0)),
        (Quota(remaining=150, limit=190, window=10.0), 2.0, 3, Pace(0, 20 / 187, 10.0)),
        # nothing left: pause to the reset, or one request's share of a rolling window
        (Quota(remaining=0, limit=100, window=60, reset_in=12.0), 1.0, 1, Pace(pause=12.0)),
        (Quota(remaining=0, limit=190, window=10.0), 1.0, 1, Pace(pause=10 / 190)),
        # a daily allowance is a cap, not a pace; Retry-After always pauses
        (Quota(remaining=14982, limit=15000, window=86400, paces=False), 1.0, 1, Pace()),
        (Quota(retry_after=7.0), 1.0, 1, Pace(pause=7.0)),
    ],
)
def test_quota_pace(quota, per_slot, cluster, expected):
    assert quota_pace(quota, per_slot, cluster) == expected


async def test_a_bucket_paced_by_a_quota_spaces_calls_at_its_interval_without_a_burst():
    bucket = TokenBucket(1000.0, 20)
    bucket.observe(Quota(remaining=5, limit=100, window=60, reset_in=0.25))  # 0.05 s apart
    times = await _acquire_all(bucket, 5)
    assert times[-1] - times[0] >= 4 * 0.05 - 0.005


async def test_the_first_call_goes_alone_until_it_is_answered():
    bucket = TokenBucket(1000.0, 20, first_alone=True)
    await bucket.acquire()
    second = asyncio.ensure_future(bucket.acquire())
    await asyncio.sleep(0.02)
    assert not second.done()
    bucket.replied()
    await asyncio.wait_for(second, 1)
