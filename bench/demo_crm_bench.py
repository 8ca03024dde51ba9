"""Benchmark (not a test): what the demo CRM costs its caller per phone search and related call.

The demo CRM stands in for the customer's CRM in ``bench/events_bench.py``, inside the
service's process, so its CPU time is charged to the service. Per interaction the service
calls ``search(PhoneSearch)`` once and ``related(record)`` once; this measures both in
isolation (process CPU time and SQL statements per call) on the sample data.

    .venv/bin/python bench/demo_crm_bench.py --count 300
    .venv/bin/python bench/demo_crm_bench.py --url postgresql+asyncpg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bot.storage.db import create_demo_crm_engine  # noqa: E402
from crm.demo import DemoCrm  # noqa: E402
from crm.models import PhoneSearch  # noqa: E402

NUMBER = "+49 30 1234567"  # Anna Schmidt of the sample data


class StatementCounter:
    """Counts SQL statements on every engine of the process."""

    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


async def _measure(
    label: str, count: int, call: Callable[[], Awaitable[Any]], counter: StatementCounter
) -> None:
    statements = counter.count
    started = time.process_time()
    for _ in range(count):
        await call()
    cpu_ms = (time.process_time() - started) * 1000 / count
    per_call = (counter.count - statements) / count
    print(f"{label:<8} {cpu_ms:7.3f} ms CPU/call  {per_call:4.1f} statements/call")


async def run(url: str, count: int, profile: str | None) -> None:
    counter = StatementCounter()
    crm = DemoCrm(url, open_engine=create_demo_crm_engine)
    try:
        query = PhoneSearch(number=NUMBER, limit=10)
        [found] = await crm.search(query)  # creates and seeds the tables
        for _ in range(20):  # warm-up: compiled statement cache, pool
            await crm.search(query)
            await crm.related(found, limit=10)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        await _measure("search", count, lambda: crm.search(query), counter)
        await _measure("related", count, lambda: crm.related(found, limit=10), counter)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
    finally:
        await crm.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="calls of each kind")
    parser.add_argument("--url", default="", help="demo CRM database (default: a temp SQLite file)")
    parser.add_argument("--profile", default=None, help="write cProfile stats to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{tmp}/demo-crm.db"
        asyncio.run(run(url, args.count, args.profile))


if __name__ == "__main__":
    main()
