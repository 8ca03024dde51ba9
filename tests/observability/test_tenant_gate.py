"""The tenant's gate on a virtual clock: Teams' per-tenant window never exceeded, new cards
before updates yet updates never starved, nothing dropped, and a 429 pauses the tenant."""

from __future__ import annotations

import asyncio

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from bot.observability.connector_policy import ConnectorPolicy
from bot.observability.tenant_gate import UPDATE_SHARE, TenantGate


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def _take(gate: TenantGate, clock: VirtualClock, name: str, first: bool, order: list):  # type: ignore[no-untyped-def,type-arg]
    await gate.acquire(first=first)
    order.append((name, clock.now))


async def test_new_cards_go_first_and_every_tenth_slot_is_an_update():
    clock = VirtualClock()
    gate = TenantGate(5, 1.0, clock=clock, sleep=clock.sleep)
    order: list[tuple[str, float]] = []
    for n in range(5):  # the window is full
        await _take(gate, clock, f"fill-{n}", False, order)
    waiting = [
        asyncio.create_task(_take(gate, clock, f"update-{n}", False, order)) for n in range(3)
    ]
    waiting += [
        asyncio.create_task(_take(gate, clock, f"card-{n}", True, order)) for n in range(20)
    ]
    await asyncio.gather(*waiting)
    names = [name for name, _ in order[5:]]
    share = UPDATE_SHARE - 1
    assert names[:share] == [f"card-{n}" for n in range(share)]
    assert names[share] == "update-0"  # the update's share: not starved behind new cards
    assert names[share + 1 : 2 * share + 1] == [f"card-{n}" for n in range(share, 2 * share)]
    assert names[2 * share + 1] == "update-1"
    expected = [f"update-{n}" for n in range(3)] + [f"card-{n}" for n in range(20)]
    assert sorted(names) == sorted(expected), "nothing dropped"


async def test_the_window_is_never_exceeded_and_every_waiter_gets_through():
    clock = VirtualClock()
    gate = TenantGate(50, 1.0, clock=clock, sleep=clock.sleep)
    order: list[tuple[str, float]] = []
    await asyncio.gather(*(_take(gate, clock, str(n), n % 3 == 0, order) for n in range(400)))
    stamps = [at for _, at in order]
    assert len(stamps) == 400
    for i in range(len(stamps) - 50):
        assert stamps[i + 50] - stamps[i] >= 1.0 - 1e-9, "51 calls in one second"
    assert stamps[-1] < 8.0, "the tenant's rate is used, not wasted"


def _throttled() -> aiohttp.ClientResponseError:
    headers = CIMultiDictProxy(CIMultiDict({"Retry-After": "3"}))
    return aiohttp.ClientResponseError(None, (), status=429, headers=headers)  # type: ignore[arg-type]


async def test_a_429_pauses_the_whole_tenant_for_its_retry_after():
    clock = VirtualClock()
    policy = ConnectorPolicy(sleep=clock.sleep, clock=clock)
    answers = [_throttled()]
    done: dict[str, float] = {}

    async def call(name: str) -> str:
        if name == "a" and answers:
            raise answers.pop()
        done[name] = clock.now
        return name

    assert await policy.run("conv-a", lambda: call("a"), tenant_id="T", first=True) == "a"
    assert done["a"] >= 3.0  # its own retry waited for Retry-After


async def test_while_a_429_lasts_the_other_calls_of_the_tenant_wait():
    clock = VirtualClock()
    once = ConnectorPolicy(max_attempts=1, max_throttled_attempts=1, sleep=clock.sleep, clock=clock)
    done: dict[str, float] = {}

    async def throttled() -> None:
        raise _throttled()

    async def call(name: str) -> None:
        done[name] = clock.now

    try:
        await once.run("conv-a", throttled, tenant_id="T")
    except aiohttp.ClientResponseError as error:
        assert error.status == 429
    await once.run("conv-d", lambda: call("d"), tenant_id="other")
    assert done["d"] == 0.0, "another tenant is not held"
    await once.run("conv-c", lambda: call("c"), tenant_id="T")
    assert done["c"] >= 3.0 - 1e-9, "the tenant paused for Retry-After"
