"""Benchmark (not a test): one Teams tenant at and beyond Teams' per-tenant limit.

A contact center is one tenant, and Teams allows a bot about 50 Bot Connector calls per
second per app and tenant. This starts the real service (``customer-card serve``) in its
own process, with a CRM stand-in that answers each call after ``--latency-ms``: by default
the HubSpot simulator in a process of its own (``bench/crm_process.py``, configured in the
service as its default HubSpot configuration: real HTTP, as to a CRM outside the service),
or with ``--crm demo`` the service's in-process demo CRM slowed to that latency; and, in
this process, a fake Bot Connector that enforces the tenant limit as Teams does: at
most ``--limit`` calls (POST and PUT) per second in a sliding window per tenant, ``429``
with ``Retry-After`` beyond it. ``--agents`` agents are installed, all in one tenant, and
``started`` events are driven through the events API at each rate of ``--rates`` in turn
(one service run, so the rows compare with each other on the same machine load):

  * cards/s: first cards the connector accepted during the phase, per second of the phase,
    and as a share of the limit;
  * event -> card p50 / p99: from sending the event to the connector accepting the card, and
    their ratio to the CRM latency;
  * connector calls per interaction: accepted POSTs and PUTs of the phase's cards per
    interaction (429 answers counted apart);
  * cards missing: interactions without a card ``--drain`` seconds after the phase;
  * CPU ms/int: the service process's CPU time (utime + stime from /proc) during the phase
    per interaction: robust to other load on the machine, unlike the latencies; CRM ms/int
    the same for the CRM process.

    .venv/bin/python bench/tenant_bench.py                       # 2,000 agents, 20/40/60 per s
    .venv/bin/python bench/tenant_bench.py --rates 20 40 60 --seconds 20 --window-ms 250

Only 127.0.0.1 is used; every loop is bounded by --seconds and --drain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crm_process import CrmProcess  # noqa: E402
from bench.events_bench import percentile, reference_loop_ms  # noqa: E402
from bench.service_process import ADMIN_KEY, KEY, Service  # noqa: E402
from bench.traffic import BenchConnector, activity, started_event  # noqa: E402


class TenantConnector(BenchConnector):
    """Fake Bot Connector with Teams' per-tenant limit: a sliding window of accepted calls
    per tenant; beyond it 429 with Retry-After (whole seconds, as HTTP writes it)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.ids = 0
        self.limit = limit
        self.enforce = False  # off while the agents install (their welcome messages)
        self.windows: dict[str, deque[float]] = defaultdict(deque)
        self.calls: dict[str, int] = defaultdict(int)  # interaction -> accepted POST/PUT
        self.throttled = 0

    async def activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = self.last_request = time.perf_counter()
        self._changed.set()
        if self.enforce:
            tenant = (body.get("conversation") or {}).get("tenantId") or ""
            window = self.windows[tenant]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self.limit:
                self.throttled += 1
                return web.json_response(
                    {"error": {"code": "Throttled", "message": "too many requests"}},
                    status=429,
                    headers={"Retry-After": "1"},
                )
            window.append(now)
        interaction = _interaction_of(body)
        if interaction:
            self.calls[interaction] += 1
            if request.method == "POST":
                self.posted.setdefault(interaction, now)
        self.ids += 1
        return web.json_response({"id": f"a{self.ids}"}, status=201)

    async def quiet(self, seconds: float, limit: float) -> None:
        """Until no request came for ``seconds`` (at most ``limit`` seconds)."""
        deadline = time.perf_counter() + limit

        def quiet() -> bool:
            now = time.perf_counter()
            return now - self.last_request >= seconds or now >= deadline

        while not quiet():
            await self.wait_until(lambda: False, 0.1)


def _interaction_of(body: dict[str, Any]) -> str | None:
    for attachment in body.get("attachments") or []:
        refresh = (attachment.get("content") or {}).get("refresh") or {}
        interaction = (refresh.get("action") or {}).get("data", {}).get("interactionId")
        if interaction:
            return str(interaction)
    return None


@dataclass
class Phase:
    rate: int
    sent: dict[str, float] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    began: float = 0.0
    ended: float = 0.0  # the last event sent
    throttled: int = 0
    load: float = 0.0
    cpu: float = 0.0  # the service's CPU seconds during the phase
    crm_cpu: float = 0.0  # the CRM process's (--crm process)


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cc-tenant-bench-"))
    connector = TenantConnector(args.limit)
    runner = web.AppRunner(connector.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    connector_url = f"http://127.0.0.1:{port}/"
    service = Service(f"sqlite+aiosqlite:///{workdir / 'data' / 'customer-card.db'}", workdir)
    service.env["CUSTOMER_CARD_CARD_WINDOW_MS"] = str(args.window_ms)
    service.env["CUSTOMER_CARD_CONNECTOR_TENANT_RATE"] = str(args.limit)
    crm = CrmProcess(args.latency_ms, workdir / "crm.log") if args.crm == "process" else None
    speed = reference_loop_ms()
    phases: list[Phase] = []
    try:
        if crm is not None:
            await crm.start()
        await service.start()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400)) as http:
            await _set_up(http, service.base, connector_url, args, crm)
            await connector.quiet(1.0, 120)
            connector.enforce = True
            for rate in args.rates:
                cpu = service.cpu_seconds()
                crm_cpu = crm.cpu_seconds() if crm is not None else 0.0
                phases.append(await _phase(http, service.base, connector, rate, args))
                phases[-1].cpu = service.cpu_seconds() - cpu
                if crm is not None:
                    phases[-1].crm_cpu = crm.cpu_seconds() - crm_cpu
    finally:
        await service.stop()
        await runner.cleanup()
        if crm is not None:
            await crm.stop()
    _print(args, connector, phases, speed)


async def _set_up(
    http: aiohttp.ClientSession,
    base: str,
    connector_url: str,
    args: argparse.Namespace,
    crm: CrmProcess | None,
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    if crm is not None:  # the default configuration from now on: events name none
        async with http.post(
            f"{base}/api/v1/configurations", headers=admin, json=crm.configuration()
        ) as response:
            assert response.status == 201, await response.text()
    else:
        async with http.get(f"{base}/api/v1/configurations", headers=admin) as response:
            configs = (await response.json())["configurations"]
        default = next(c for c in configs if c["isDefault"])
        settings = {**(default.get("settings") or {}), "latency_ms": args.latency_ms}
        async with http.patch(
            f"{base}/api/v1/configurations/{default['id']}",
            headers=admin,
            json={"settings": settings},
        ) as response:
            assert response.status == 200, await response.text()

    async def install(agent: int) -> None:
        body = activity(connector_url, agent, "installationUpdate", action="add")
        async with http.post(f"{base}/api/messages", json=body) as response:
            assert response.status < 300, await response.text()

    for start in range(0, args.agents, 50):
        await asyncio.gather(*(install(a) for a in range(start, min(args.agents, start + 50))))


async def _phase(
    http: aiohttp.ClientSession,
    base: str,
    connector: TenantConnector,
    rate: int,
    args: argparse.Namespace,
) -> Phase:
    phase = Phase(rate, load=os.getloadavg()[0])
    headers = {"Authorization": f"Bearer {KEY}"}
    throttled_before = connector.throttled

    async def send(index: int) -> None:
        interaction = f"r{rate}-{index}-{uuid.uuid4().hex[:6]}"
        body = started_event(interaction, str(index % args.agents), index % args.agents)
        phase.sent[interaction] = time.perf_counter()
        async with http.post(
            f"{base}/api/v1/interactions/events", json=body, headers=headers
        ) as response:
            await response.read()
            phase.statuses[response.status] = phase.statuses.get(response.status, 0) + 1

    total = rate * args.seconds
    tasks = []
    phase.began = time.perf_counter()
    for index in range(total):
        await asyncio.sleep(max(0.0, phase.began + index / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(send(index)))
    phase.ended = time.perf_counter()
    await asyncio.gather(*tasks)
    deadline = time.perf_counter() + args.drain
    await connector.wait_until(lambda: all(i in connector.posted for i in phase.sent), args.drain)
    await connector.quiet(1.5, max(2.0, deadline - time.perf_counter()))  # the PUTs too
    phase.throttled = connector.throttled - throttled_before
    return phase


def _print(
    args: argparse.Namespace, connector: TenantConnector, phases: list[Phase], speed: float
) -> None:
    crm = args.latency_ms
    stand_in = "HubSpot simulator, own process" if args.crm == "process" else "demo, in-process"
    print(
        f"one tenant, {args.agents} agents, limit {args.limit}/s, CRM latency {crm:g} ms "
        f"({stand_in}), "
        f"card window {args.window_ms:g} ms, {args.seconds} s per rate; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
        f"reference loop {speed:.0f} ms"
    )
    head = (
        f"{'rate/s':>6} {'load':>5} {'cards/s':>8} {'of limit':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'p50/CRM':>7} {'p99/CRM':>7} {'calls/int':>9} {'429s':>5} {'missing':>7} "
        f"{'CPU ms/int':>10} {'CRM ms/int':>10} answers"
    )
    print(head)
    print("-" * len(head))
    for phase in phases:
        cards = [connector.posted[i] for i in phase.sent if i in connector.posted]
        latencies = [
            (connector.posted[i] - sent) * 1000
            for i, sent in phase.sent.items()
            if i in connector.posted
        ]
        duration = phase.ended - phase.began
        in_phase = sum(1 for t in cards if phase.began <= t <= phase.ended)
        per_second = in_phase / duration
        calls = sum(connector.calls[i] for i in phase.sent) / max(1, len(phase.sent))
        p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
        answers = ", ".join(f"{n}x {code}" for code, n in sorted(phase.statuses.items()))
        print(
            f"{phase.rate:>6} {phase.load:>5.2f} {per_second:>8.1f} "
            f"{per_second / args.limit:>8.0%} {p50:>7.0f} {p99:>7.0f} {p50 / crm:>7.2f} "
            f"{p99 / crm:>7.2f} {calls:>9.2f} {phase.throttled:>5} "
            f"{len(phase.sent) - len(cards):>7} {phase.cpu / len(phase.sent) * 1000:>10.1f} "
            f"{phase.crm_cpu / len(phase.sent) * 1000:>10.1f} {answers}"
        )
    print(
        "cards/s counts first cards accepted while the phase's events were being sent; "
        "targets: >= 90% of the limit when demand exceeds it, p99/CRM <= 1.5 under 40/s, "
        "calls/int <= 1.2"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 40, 60])
    parser.add_argument("--seconds", type=int, default=20, help="per rate")
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument(
        "--limit",
        type=int,
        default=50,
        help="connector calls/s per tenant: the fake connector's limit and the service's "
        "CUSTOMER_CARD_CONNECTOR_TENANT_RATE (a lower one scales the run down to a slow "
        "machine: rates relative to it)",
    )
    parser.add_argument("--latency-ms", type=float, default=100, help="per CRM call")
    parser.add_argument(
        "--crm",
        choices=("process", "demo"),
        default="process",
        help="the CRM stand-in: the HubSpot simulator in its own process (bench/crm_process.py) "
        "or the service's in-process demo CRM",
    )
    parser.add_argument("--window-ms", type=float, default=250, help="CUSTOMER_CARD_CARD_WINDOW_MS")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for cards")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
