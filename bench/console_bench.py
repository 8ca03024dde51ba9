"""Measurement (not a test): how long the admin console's pages take, server side, on the
embedded defaults (SQLite, the demo CRM) in this process: the configurations list, a
configuration page, the dynamic mapping form with its field picker, the card preview
(metadata, a sample record, the card built) and a Try it run of the phone search.

    .venv/bin/python bench/console_bench.py [--rounds 50]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402

KEY = "bench-admin-key"


async def _timed(rounds: int, call: Callable[[], Awaitable[int]]) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        status = await call()
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(_env_file=None, data_dir=Path(home), admin_api_keys=KEY)  # type: ignore[call-arg]
        async with TestClient(TestServer(create_app(settings))) as client:
            page = await (await client.get("/admin/sign-in")).text()
            login = re.search(r'name="csrf" value="([^"]+)"', page)
            assert login
            await client.post("/admin/sign-in", data={"csrf": login.group(1), "key": KEY})
            listing = await (await client.get("/admin/configurations")).text()
            found = re.search(r'href="/admin/configurations/(cfg-[^"]+)"', listing)
            assert found
            config = f"/admin/configurations/{found.group(1)}"
            token = re.search(r'name="csrf" value="([^"]+)"', listing)
            assert token
            csrf = token.group(1)
            workflows = await (await client.get(config + "/workflows")).text()
            search = re.search(r'href="([^"]+)">Search by phone number', workflows)
            assert search

            async def get(path: str) -> int:
                response = await client.get(path)
                await response.read()
                return response.status

            async def post(path: str, data: dict[str, str]) -> int:
                response = await client.post(path, data={"csrf": csrf, **data})
                await response.read()
                return response.status

            mapping = config + "/dynamic-data-mappings/new"
            fields = {"name": "Bench", "rt": "contact", "f.0": "email"}
            cases = {
                "configurations list": lambda: get("/admin/configurations"),
                "configuration page (with audit rows)": lambda: get(config),
                "dynamic mapping form, contact picker": lambda: post(
                    mapping, {"name": "Bench", "op": "add", "add_type": "contact"}
                ),
                "card preview": lambda: post(mapping, {**fields, "op": "preview"}),
                "Try it: search by phone": lambda: post(
                    search.group(1) + "/try",
                    {"payload": '{"workflowInput": {"phoneNumber": "+49 30 1234567"}}'},
                ),
            }
            print(f"{'page':40} {'median ms':>10} {'p95 ms':>8}   ({rounds} rounds each)")
            for name, call in cases.items():
                median, p95 = await _timed(rounds, call)
                print(f"{name:40} {median:10.1f} {p95:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    asyncio.run(run(parser.parse_args().rounds))


if __name__ == "__main__":
    main()
