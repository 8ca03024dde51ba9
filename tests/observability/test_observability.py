"""Logs without secrets, Prometheus exposition, and the Bot Connector rate policy."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import aiohttp
import pytest
from aiohttp import web

from bot.observability.connector_policy import ConnectorPolicy, SlidingWindow
from bot.observability.logs import JsonFormatter, RedactingFilter, log_context, register_secret
from bot.observability.metrics import Metrics, metrics_handler


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def test_json_lines_carry_correlation_ids(json_log):
    logger, stream = json_log
    with log_context(interaction_id="int-1", configuration_id="cfg-9"):
        with log_context(activity_id="act-3"):
            logger.info("card updated")
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "card updated"
    assert (entry["interaction_id"], entry["configuration_id"], entry["activity_id"]) == (
        "int-1",
        "cfg-9",
        "act-3",
    )


def test_json_lines_have_the_documented_keys_and_mask_extra_values(json_log):
    logger, stream = json_log
    try:
        raise RuntimeError("vendor said client_secret=leaked-value-1")
    except RuntimeError:
        logger.exception("failed", extra={"event": "crm_call", "note": "password=hunter2hunter2"})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert {"ts", "level", "logger", "message", "event", "exception"} <= entry.keys()
    assert (entry["level"], entry["logger"], entry["event"]) == (
        "error",
        "test.observability",
        "crm_call",
    )
    assert entry["note"] == "password=***"
    assert "leaked-value-1" not in stream.getvalue() and "hunter2" not in stream.getvalue()
    assert "RuntimeError" in entry["exception"]


@pytest.mark.parametrize(
    "line",
    [
        "calling CRM with Authorization: Bearer abc.DEF-123_xyz",
        'token answer {"access_token": "00Dxx!AR8AQ.secretvalue"}',
        "form client_secret=sUp3r-s3cret&grant_type=client_credentials",
        "password: hunter2hunter2",
        "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
    ],
)
def test_credentials_never_reach_the_log(json_log, line):
    logger, stream = json_log
    logger.warning(line)
    out = stream.getvalue()
    for secret in (
        "abc.DEF-123_xyz",
        "secretvalue",
        "sUp3r-s3cret",
        "hunter2hunter2",
        "c2lnbmF0dXJl",
    ):
        assert secret not in out


def test_registered_secret_is_masked_in_exceptions(json_log):
    logger, stream = json_log
    register_secret("platform-key-0123456789")
    try:
        raise RuntimeError("bad key platform-key-0123456789")
    except RuntimeError:
        logger.exception("failed")
    assert "platform-key-0123456789" not in stream.getvalue()
    assert "***" in stream.getvalue()


async def test_metrics_endpoint_exposes_counters(aiohttp_client):
    metrics = Metrics()
    metrics.crm_calls.labels("cfg-1", "demo", "search", "ok").inc()
    metrics.crm_latency.labels("cfg-1", "demo", "search").observe(0.12)
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics))
    client = await aiohttp_client(app)
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert (
        'customer_card_crm_calls_total{configuration="cfg-1",crm="demo",'
        'operation="search",outcome="ok"} 1.0'
    ) in text
    assert "customer_card_crm_call_seconds_bucket" in text


def test_sliding_window_holds_the_limit():
    now = [0.0]
    window = SlidingWindow(7, 1.0, clock=lambda: now[0])
    for _ in range(7):
        assert window.wait_time() == 0
        window.record()
    assert window.wait_time() == pytest.approx(1.0)
    now[0] = 1.0
    assert window.wait_time() == 0


async def _connector(aiohttp_server, answer) -> str:  # type: ignore[no-untyped-def]
    """A stand-in Bot Connector answering every POST with ``answer(request)``; its URL."""
    app = web.Application()
    app.router.add_post("/v3/conversations/c1/activities", answer)
    server = await aiohttp_server(app)
    return str(server.make_url("/v3/conversations/c1/activities"))


def _poster(url: str):  # type: ignore[no-untyped-def]
    """One POST of an activity, as the notifier makes it through the policy."""

    async def post():
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={}) as response,
        ):
            response.raise_for_status()
            return await response.json()

    return post


class _Sleeps(list[float]):
    """The policy's sleeps, noted instead of slept."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_retryable_connector_errors_are_retried_with_retry_after(aiohttp_server):
    calls = []

    async def activities(request):
        calls.append(request.method)
        if len(calls) == 1:
            return web.json_response(
                {"error": "throttled"}, status=429, headers={"Retry-After": "2"}
            )
        if len(calls) == 2:
            return web.json_response({}, status=502)
        return web.json_response({"id": "a-1"})

    url = await _connector(aiohttp_server, activities)
    slept = _Sleeps()
    clock = [0.0]

    async def fake_sleep(seconds: float) -> None:
        await slept(seconds)
        clock[0] += seconds

    retried: list[int] = []
    policy = ConnectorPolicy(sleep=fake_sleep, on_retry=retried.append, clock=lambda: clock[0])

    assert await policy.run("c1", _poster(url)) == {"id": "a-1"}
    assert retried == [429, 502]
    assert slept[0] >= 2.0  # Retry-After honoured


async def test_retries_stop_after_max_attempts_with_the_last_error(aiohttp_server):
    calls = []

    async def activities(request):
        calls.append(request.method)
        return web.json_response({}, status=504)

    url = await _connector(aiohttp_server, activities)
    slept = _Sleeps()
    retried: list[int] = []
    policy = ConnectorPolicy(
        max_attempts=3, base_delay=1.0, max_delay=1.5, sleep=slept, on_retry=retried.append
    )

    with pytest.raises(aiohttp.ClientResponseError) as info:
        await policy.run("c1", _poster(url))
    assert (info.value.status, len(calls), retried) == (504, 3, [504, 504])
    # equal jitter: half the capped exponential delay is fixed, half random
    assert 0.5 <= slept[0] <= 1.0 and 0.75 <= slept[1] <= 1.5


async def test_non_retryable_errors_surface_at_once(aiohttp_server):
    async def activities(request):
        return web.json_response({"error": "forbidden"}, status=403)

    url = await _connector(aiohttp_server, activities)
    with pytest.raises(aiohttp.ClientResponseError) as info:
        await ConnectorPolicy().run("c1", _poster(url))
    assert info.value.status == 403


async def test_per_conversation_rate_is_never_exceeded():
    clock = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    policy = ConnectorPolicy(sleep=fake_sleep, clock=lambda: clock[0])
    stamps: list[float] = []
    for _ in range(20):
        await policy.run("conv", lambda: _stamp(stamps, clock))
    assert slept, "the eighth call in one second had to wait"
    for i in range(len(stamps) - 7):
        assert stamps[i + 7] - stamps[i] >= 1.0 - 1e-9


async def _stamp(stamps, clock):
    stamps.append(clock[0])


async def test_the_app_rate_is_counted_per_tenant():
    clock = [0.0]

    async def fake_sleep(seconds: float) -> None:
        clock[0] += seconds

    policy = ConnectorPolicy(app_rate=(3, 1.0), sleep=fake_sleep, clock=lambda: clock[0])
    stamps: list[float] = []
    for n in range(3):  # tenant A's window is full after these
        await policy.run(f"a{n}", lambda: _stamp(stamps, clock), tenant_id="A")
    for n in range(3):  # tenant B has its own window: no wait
        await policy.run(f"b{n}", lambda: _stamp(stamps, clock), tenant_id="B")
    assert clock[0] == 0.0
    await policy.run("a9", lambda: _stamp(stamps, clock), tenant_id="A")
    assert clock[0] >= 1.0, "the fourth call of tenant A in one second waited"


async def test_a_new_card_goes_before_updates_waiting_for_the_tenant_window():
    policy = ConnectorPolicy(app_rate=(2, 0.2))
    order: list[str] = []

    async def call(name: str) -> None:
        order.append(name)

    await policy.run("c0", lambda: call("fill-1"), tenant_id="T")
    await policy.run("c0", lambda: call("fill-2"), tenant_id="T")
    updates = [
        asyncio.create_task(policy.run(f"u{n}", lambda n=n: call(f"update-{n}"), tenant_id="T"))
        for n in range(3)
    ]
    await asyncio.sleep(0.01)  # the updates are waiting for room
    first = asyncio.create_task(
        policy.run("new", lambda: call("new card"), tenant_id="T", first=True)
    )
    await asyncio.gather(first, *updates)
    assert order[:2] == ["fill-1", "fill-2"]
    assert order[2] == "new card", order
    assert sorted(order[3:]) == ["update-0", "update-1", "update-2"]
