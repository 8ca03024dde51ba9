"""Benchmark (not a test): interaction events at a fixed rate -> Customer Card posted.

Runs the real service on 127.0.0.1 with the demo CRM slowed to a fixed latency per call
(the CRM stand-in) and a fake Bot Connector, then reports:
  * p50/p99 of event -> card posted, and p99 / CRM latency (target <= 1.25 at 100/s),
  * p99 of a pin action's overhead (invoke round trip; pin reads the stored snapshot, no
    CRM call; target <= 20 ms),
  * peak memory (max RSS of this process: service, fake connector and load generator).

    .venv/bin/python bench/events_bench.py --rate 100 --seconds 10 --latency-ms 100
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import update

from bot.app import create_app
from bot.services import SERVICES
from bot.settings import Settings
from bot.storage.config_tables import ConfigurationRow

KEY = "bench-key"


class Connector:
    """Fake Bot Connector: notes when each interaction's first card arrives."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}
        self.ids = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/v3/conversations/{cid}/activities{tail:.*}", self.activity)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self.member)
        return app

    async def activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.perf_counter()
        for attachment in body.get("attachments") or []:
            refresh = (attachment.get("content") or {}).get("refresh") or {}
            interaction = (refresh.get("action") or {}).get("data", {}).get("interactionId")
            if interaction and request.method == "POST":
                self.posted.setdefault(interaction, now)
        self.ids += 1
        return web.json_response({"id": f"a{self.ids}"}, status=201)

    async def member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        return web.json_response({"id": uid, "name": uid, "email": f"{uid[3:]}@bench.example"})


def activity(service_url: str, agent: int, type_: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_, "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": service_url,
        "locale": "en-US", "from": {"id": f"29:agent{agent}", "aadObjectId": f"aad-{agent}"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": f"a:conv{agent}", "conversationType": "personal",
                         "tenantId": "t"}, **extra,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    settings = Settings(_env_file=None, data_dir=str(workdir), api_keys=KEY,  # type: ignore[call-arg]
                        database_url=args.database_url or "", log_level="WARNING")
    connector = Connector()
    runners = [web.AppRunner(connector.app()), web.AppRunner(create_app(settings))]
    for runner in runners:
        await runner.setup()
    sites = [web.TCPSite(runner, "127.0.0.1", 0) for runner in runners]
    for site in sites:
        await site.start()
    connector_url = f"http://127.0.0.1:{sites[0]._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{sites[1]._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    services = runners[1].app[SERVICES]
    async with services.sessions() as session, session.begin():
        await session.execute(update(ConfigurationRow).values(
            settings={"latency_ms": args.latency_ms}))

    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=args.rate * 4)
    ) as http:
        for agent in range(args.agents):
            await http.post(f"{base}/api/messages", json=activity(
                connector_url, agent, "installationUpdate", action="add"))

        sent: dict[str, float] = {}
        accepted = 0

        async def send(index: int) -> None:
            nonlocal accepted
            interaction = f"bench-{index}"
            body = {"type": "started", "eventId": uuid.uuid4().hex, "interactionId": interaction,
                    "contactId": interaction, "channel": "voice",
                    "agent": {"id": str(index), "aadObjectId": f"aad-{index % args.agents}"},
                    "data": {"ANI": "+49 30 1234567", "Skill Name": "Bench"}}
            sent[interaction] = time.perf_counter()
            async with http.post(f"{base}/api/v1/interactions/events", json=body,
                                 headers=headers) as response:
                accepted += response.status == 202

        total = args.rate * args.seconds
        start = time.perf_counter()
        tasks = []
        for index in range(total):
            await asyncio.sleep(max(0.0, start + index / args.rate - time.perf_counter()))
            tasks.append(asyncio.create_task(send(index)))
        await asyncio.gather(*tasks)
        deadline = time.perf_counter() + 30
        while len(connector.posted) < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        await services.interactions._sync.drain()  # let related-record updates finish

        latencies = [(connector.posted[i] - sent[i]) * 1000 for i in sent if i in connector.posted]

        # Pin overhead: unpin + pin the matched record on cards that are already posted.
        pin_times: list[float] = []
        for index in range(min(args.pins, total)):
            interaction = f"bench-{index}"
            state = await (await http.get(f"{base}/api/v1/interactions/{interaction}",
                                          headers=headers)).json()
            record = state["current"][0]
            for verb in ("unpin", "pin"):
                invoke = activity(connector_url, index % args.agents, "invoke",
                                  name="adaptiveCard/action", value={"action": {
                                      "type": "Action.Execute", "verb": verb, "data": {
                                          "verb": verb, "interactionId": interaction,
                                          "recordType": record["type"],
                                          "recordId": record["id"]}}})
                began = time.perf_counter()
                async with http.post(f"{base}/api/messages", json=invoke) as response:
                    await response.read()
                    assert response.status == 200
                if verb == "pin":
                    pin_times.append((time.perf_counter() - began) * 1000)
        await services.interactions._sync.drain()

    for runner in reversed(runners):
        await runner.cleanup()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"events: {total} at {args.rate}/s, accepted {accepted}, cards posted {len(latencies)}")
    print(f"CRM latency per call: {args.latency_ms} ms; database: "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"event -> card posted: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"mean {statistics.mean(latencies):.1f} ms")
    print(f"ratio p50/CRM {p50 / args.latency_ms:.2f}, p99/CRM {p99 / args.latency_ms:.2f} "
          f"(target <= 1.25)")
    print(f"pin overhead (invoke round trip, n={len(pin_times)}): "
          f"p50 {percentile(pin_times, 0.5):.1f} ms, p99 {percentile(pin_times, 0.99):.1f} ms "
          f"(target <= 20)")
    print(f"peak memory (max RSS, whole process): {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=100, help="events per second")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--pins", type=int, default=200)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
