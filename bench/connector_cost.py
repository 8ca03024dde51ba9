"""Benchmark (not a test): what a platform connector adds to an interaction's cost.

Runs the app in this process (SQLite, the demo CRM, the fake Bot Connector of
``interaction_cost.py``) with the Twilio connector set up, and drives tasks one after
another as TaskRouter would: ``task.created``, ``reservation.accepted`` (signed with
``X-Twilio-Signature``), the card, ``task.wrapup``, ``task.completed``. For each callback
it reports the process CPU time and the SQL statements on the service's database; compare
"reservation.accepted" with interaction_cost.py's "event -> 202" for the events API.

    .venv/bin/python bench/connector_cost.py --count 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))
sys.path.insert(0, str(_HERE))

from interaction_cost import ADMIN, KEY, Connector, Meter, activity  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.services import SERVICES  # noqa: E402
from bot.settings import Settings  # noqa: E402

ACCOUNT = "AC" + "0" * 32
TOKEN = "bench-auth-token-0001"
PATH = "/api/v1/connectors/twilio/taskrouter"


class MailConnector(Connector):
    """The fake Bot Connector; its member API gives each agent the email TaskRouter's
    worker attributes carry."""

    async def member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        number = uid.removeprefix("29:agent")
        return web.json_response({"id": uid, "name": uid, "email": f"agent{number}@bench.example"})


def callback(kind: str, task: int, agent: int, step: int) -> dict[str, str]:
    fields = {
        "AccountSid": ACCOUNT,
        "EventType": kind,
        "Sid": f"EV{task:08d}{step:024d}",
        "TaskSid": f"WT{task:032d}",
        "TaskQueueName": "Bench",
        "TaskChannelUniqueName": "voice",
        "TaskAttributes": json.dumps({"from": "+49 30 1234567", "to": "+49 30 999"}),
        "Timestamp": str(1735725600 + task * 10 + step),
    }
    if kind == "reservation.accepted":
        fields |= {
            "WorkerSid": f"WK{agent:032d}",
            "WorkerName": f"agent{agent}",
            "WorkerAttributes": json.dumps({"email": f"agent{agent}@bench.example"}),
        }
    return fields


async def run(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore")
    workdir = Path(tempfile.mkdtemp(prefix="cc-connector-cost-"))
    connector = MailConnector()
    conn_server = TestServer(connector.app(), host="127.0.0.1")
    await conn_server.start_server()
    service_url = str(conn_server.make_url("/"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{workdir / 'cc.db'}",  # type: ignore[call-arg]
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
    meter.listen(services.engine, False)
    validator = RequestValidator(TOKEN)
    url = str(client.make_url(PATH))
    try:
        response = await client.put(
            "/api/v1/connectors/twilio",
            json={"settings": {"account_sid": ACCOUNT}, "secrets": {"auth_token": TOKEN}},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert response.status == 201, await response.text()
        for agent in range(args.agents):
            install = activity(service_url, agent, "installationUpdate", action="add")
            response = await client.post("/api/messages", json=install)
            assert response.status < 300
        for task in range(args.warmup + args.count):
            measuring = task >= args.warmup
            agent = task % args.agents
            for step, kind in enumerate(
                ("task.created", "reservation.accepted", "task.wrapup", "task.completed")
            ):
                fields = callback(kind, task, agent, step)
                posts = connector.posts
                began = meter.start()
                response = await client.post(
                    PATH,
                    data=urlencode(fields),
                    headers={
                        "X-Twilio-Signature": validator.compute_signature(url, fields),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                assert response.status == 200, await response.text()
                await response.read()
                meter.stop(kind, began) if measuring else None
                if kind == "reservation.accepted":
                    await connector.wait(lambda p=posts: connector.posts > p)
                    await services.delivery.drain()
    finally:
        await client.close()
        await conn_server.close()
    print(f"{'TaskRouter callback -> 200':<34}{'CPU ms p50':>11}{'mean':>8}{'SQL':>6}")
    for name, values in meter.rows.items():
        cpu = sorted(v[0] for v in values)
        sql = sum(v[1] for v in values) / len(values)
        print(f"{name:<34}{cpu[len(cpu) // 2]:>11.2f}{sum(cpu) / len(cpu):>8.2f}{sql:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--agents", type=int, default=10)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
