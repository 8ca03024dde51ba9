"""Benchmark (not a test): what one interaction costs the service, measured one at a time.

Runs the app in this process (SQLite or PostgreSQL, the demo CRM with no latency, a fake
Bot Connector on loopback) and drives interactions strictly one after another: ``started``
-> card posted (with the related records: the demo CRM answers within the card window),
then an unpin and a pin. For each step it reports the
process CPU time and the number of SQL statements on the service's database, so a change
to the hot path shows up as a number, not a feeling.

    .venv/bin/python bench/interaction_cost.py --count 200
    .venv/bin/python bench/interaction_cost.py --count 200 --db postgres --profile /tmp/p.prof

The fake connector and the load driver run in this process too; their share is reported
as "driver" (measured with the service idle) and subtracted.

CPU time on a shared machine varies by 10-30 % from run to run. To compare two builds
exactly, count instructions instead (valgrind's callgrind, the same count every time):
run each build with ``--count 10`` and ``--count 60``; the difference divided by 50 is
one interaction's instructions, driver included (about 4 minutes per run):

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.60 \
        .venv/bin/python bench/interaction_cost.py --count 60 --warmup 10 2>&1 | grep refs
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

from sqlalchemy import event  # noqa: E402

from bench.traffic import BenchConnector, activity, card_action, started_event  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.services import SERVICES  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.postgres import POSTGRES_URL, create_database, drop_database  # noqa: E402

KEY = "cost-key"
ADMIN = "cost-admin"


class Meter:
    def __init__(self) -> None:
        self.statements = 0
        self.rows: dict[str, list[tuple[float, int]]] = {}

    def listen(self, engine: Any, echo: bool) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            self.statements += 1
            if echo and self.echoing:
                print("   SQL", " ".join(statement.split())[:150])

    echoing = False

    def start(self) -> tuple[float, int]:
        return time.process_time(), self.statements

    def stop(self, name: str, began: tuple[float, int]) -> None:
        if self.echoing:
            print(f"-- {name}")
        cpu, count = began
        self.rows.setdefault(name, []).append(
            ((time.process_time() - cpu) * 1000, self.statements - count)
        )


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore")
    workdir = Path(tempfile.mkdtemp(prefix="cc-cost-"))
    if args.db == "postgres":
        database_url, name = await create_database(POSTGRES_URL, "cc_bench")
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'cc.db'}"
    connector = BenchConnector()
    conn_server = TestServer(connector.app(), host="127.0.0.1")
    await conn_server.start_server()
    service_url = str(conn_server.make_url("/"))
    settings = Settings(
        _env_file=None,
        database_url=database_url,  # type: ignore[call-arg]
        data_dir=str(workdir / "data"),
        api_keys=KEY,
        admin_api_keys=ADMIN,
        log_level="WARNING",
    )
    app = create_app(settings)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    meter = Meter()
    services = app[SERVICES]
    meter.listen(services.engine, args.echo)
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        for agent in range(args.agents):
            response = await client.post(
                "/api/messages",
                json=activity(service_url, agent, "installationUpdate", action="add"),
            )
            assert response.status < 300, await response.text()
        profiler = cProfile.Profile() if args.profile else None
        for index in range(args.warmup + args.count):
            measuring = index >= args.warmup
            meter.echoing = args.echo and index == args.warmup
            if measuring and profiler and index == args.warmup:
                profiler.enable()
            interaction = f"cost-{index}"
            agent = index % args.agents
            body = started_event(interaction, str(agent), agent)
            posts = connector.posts
            began = meter.start()
            response = await client.post("/api/v1/interactions/events", json=body, headers=headers)
            assert response.status == 202, await response.text()
            await response.read()
            meter.stop("event -> 202", began) if measuring else None
            began = meter.start()
            await _wait(connector, lambda p=posts: connector.posts > p)
            await services.delivery.drain()  # a PUT when related records came late
            meter.stop("202 -> card posted (related in it)", began) if measuring else None
            state = await (
                await client.get(f"/api/v1/interactions/{interaction}", headers=headers)
            ).json()
            record = state["current"][0]
            for verb in ("unpin", "pin"):
                puts = connector.puts
                invoke = card_action(service_url, agent, verb, interaction, record)
                began = meter.start()
                response = await client.post("/api/messages", json=invoke)
                assert response.status == 200, response.status
                await response.read()
                meter.stop(f"{verb} invoke", began) if measuring else None
                began = meter.start()
                await _wait(connector, lambda p=puts: connector.puts > p)
                await services.delivery.drain()
                meter.stop(f"{verb} -> PUT", began) if measuring else None
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        # the driver's own share: the same requests against an idle app path
        began = meter.start()
        for _ in range(args.count):
            await (await client.get("/healthz")).read()
        meter.stop("driver: one request (healthz)", began)
    finally:
        await client.close()
        await conn_server.close()
        if args.db == "postgres":
            await drop_database(POSTGRES_URL, name)
    total = 0.0
    print(f"{'step':<34}{'CPU ms p50':>11}{'mean':>8}{'SQL':>6}")
    for name, values in meter.rows.items():
        cpu = sorted(v[0] for v in values)
        mean = sum(cpu) / len(cpu)
        sql = sum(v[1] for v in values) / len(values)
        if not name.startswith("driver"):
            total += mean
        print(f"{name:<34}{cpu[len(cpu) // 2]:>11.2f}{mean:>8.2f}{sql:>6.1f}")
    print(f"{'interaction in all (mean)':<34}{'':>11}{total:>8.2f}")


async def _wait(connector: BenchConnector, condition: Callable[[], bool]) -> None:
    if not await connector.wait_until(condition, 10):
        raise TimeoutError("the fake connector got no card within 10 s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--echo", action="store_true", help="print the SQL of the first measured interaction"
    )
    parser.add_argument("--profile", default="", help="write cProfile stats of the run here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
