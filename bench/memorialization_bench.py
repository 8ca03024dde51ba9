"""Memorialization throughput with a slow CRM, and proof that the rate limit held.

    .venv/bin/python bench/memorialization_bench.py [--jobs 2000] [--latency 0.05]
        [--database-url URL] [--configurations 4] [--rate 150] [--burst 10]

``--database-url`` of a PostgreSQL server: the benchmark creates a fresh database there and
drops it afterwards. Default: a temporary SQLite file.

Queues ``--jobs`` jobs (one target each) spread over ``--configurations`` CRM configurations,
runs one ``MemorializationWorker`` (one process) against an in-process CRM that answers every
call after ``--latency`` seconds, and prints jobs per second. Every CRM call is time-stamped
as it starts; the largest number of calls of one configuration in any window of 1 s (and
0.1 s) is compared with what the token bucket allows: ``burst + rate * window``.
A second, throttled run (one configuration, a low rate) shows the limit is what bounds it.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.memorialization import (
    InteractionSnapshot,
    MemorializationWorker,
    WorkerOptions,
    enqueue,
)
from bot.storage.db import create_engine, is_sqlite, session_factory, upgrade_database
from bot.storage.job_tables import MemorializationJobRow
from crm.mappings import MemorializationMapping
from crm.models import (
    CrmRecord,
    CrmSystem,
    FieldInfo,
    FieldType,
    FieldValue,
    RecordType,
    TimelineActivity,
    TimelineRef,
)

_ROOT = str(Path(__file__).resolve().parents[1])  # for tests.postgres

MAPPING = MemorializationMapping(
    name="bench",
    record_types=[
        {
            "recordType": "contact",
            "fields": [
                {"crmField": "skill", "source": {"channel": "voice", "field": "Skill Name"}},
                {
                    "crmField": "disposition",
                    "source": {"channel": "voice", "field": "Disposition Name"},
                },
            ],
        }
    ],
)


class SlowCrm:
    """Answers every call after ``latency`` seconds; records when each call started."""

    def __init__(self, configuration_id: str, latency: float, log: dict[str, list[float]]):
        self.configuration_id = configuration_id
        self.latency = latency
        self.log = log
        self.activities: dict[str, str] = {}

    async def _call(self) -> None:
        self.log[self.configuration_id].append(time.monotonic())
        await asyncio.sleep(self.latency)

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="bench", label="Bench", base_url="http://127.0.0.1")

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        await self._call()
        return CrmRecord(type=record_type, id=record_id, title=record_id, fields=dict(fields))

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        await self._call()
        if activity.key in self.activities:
            return TimelineRef(id=self.activities[activity.key], type="task", created=False)
        self.activities[activity.key] = f"t-{len(self.activities) + 1}"
        return TimelineRef(id=self.activities[activity.key], type="task")

    async def list_record_types(self) -> list[RecordType]:
        await self._call()
        return [RecordType(name="contact", label="Contact")]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        await self._call()
        return [
            FieldInfo(name=name, label=name, type=FieldType.TEXT, max_length=255)
            for name in ("skill", "disposition")
        ]


def _snapshot(index: int, configuration_id: str) -> InteractionSnapshot:
    start = datetime(2025, 5, 1, 9, 0, tzinfo=UTC) + timedelta(seconds=index)
    return InteractionSnapshot(
        interaction_id=f"bench-{index}",
        configuration_id=configuration_id,
        channel="voice",
        trigger="acw_completed",
        direction="inbound",
        agent_name="Agent",
        started_at=start,
        ended_at=start + timedelta(minutes=4),
        data={"Skill Name": "Billing", "Disposition Name": "Resolved", "ANI": "+4930123"},
        targets=[{"recordType": "contact", "recordId": f"c-{index}"}],
    )


def max_in_window(times: list[float], window: float) -> int:
    """Most calls that started within any window of ``window`` seconds."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


async def wait_settled(sessions, jobs: int) -> None:  # type: ignore[no-untyped-def]
    """Until ``jobs`` jobs are done or failed."""
    while True:
        async with sessions() as session:
            settled = (
                await session.execute(
                    select(func.count()).where(MemorializationJobRow.status.in_(("done", "failed")))
                )
            ).scalar_one()
        if settled >= jobs:
            return
        await asyncio.sleep(0.05)


async def _queue(sessions, jobs: int, configurations: list[str]) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, jobs, 500):
        async with sessions() as session, session.begin():
            for index in range(start, min(jobs, start + 500)):
                await enqueue(
                    session, _snapshot(index, configurations[index % len(configurations)]), MAPPING
                )


async def run(
    url: str,
    *,
    jobs: int,
    latency: float,
    configurations: int,
    rate: float,
    burst: int,
    concurrency: int,
) -> dict[str, float]:
    await upgrade_database(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(MemorializationJobRow.__table__.delete())
    names = [f"cfg-{n}" for n in range(configurations)]
    await _queue(sessions, jobs, names)
    log: dict[str, list[float]] = defaultdict(list)
    crms = {name: SlowCrm(name, latency, log) for name in names}

    async def provider(configuration_id: str) -> SlowCrm:
        return crms[configuration_id]

    options = WorkerOptions(
        rate_per_second=rate,
        burst=burst,
        concurrency=concurrency,
        lease_seconds=60,
        poll_seconds=0.05,
    )
    worker = MemorializationWorker(sessions, provider, options)  # type: ignore[arg-type]
    started = time.monotonic()
    await worker.start()
    await wait_settled(sessions, jobs)
    elapsed = time.monotonic() - started
    await worker.stop()
    async with sessions() as session:
        failed = (
            await session.execute(
                select(func.count()).where(MemorializationJobRow.status == "failed")
            )
        ).scalar_one()
    if failed:
        raise SystemExit(f"{failed} jobs failed: the benchmark CRM never fails, so this is a bug")
    await engine.dispose()
    activities = sum(len(crm.activities) for crm in crms.values())
    return {
        "jobs": jobs,
        "seconds": elapsed,
        "jobs_per_second": jobs / elapsed,
        "activities": activities,
        "calls": sum(len(times) for times in log.values()),
        "max_calls_1s": max(max_in_window(times, 1.0) for times in log.values()),
        "allowed_1s": burst + rate * 1.0,
        "max_calls_100ms": max(max_in_window(times, 0.1) for times in log.values()),
        "allowed_100ms": burst + rate * 0.1,
    }


def _print(title: str, figures: dict[str, float], rate: float, configurations: int) -> None:
    held = (
        figures["max_calls_1s"] <= figures["allowed_1s"]
        and figures["max_calls_100ms"] <= figures["allowed_100ms"]
    )
    print(f"\n{title}")
    print(
        f"  {figures['jobs']:.0f} jobs in {figures['seconds']:.2f} s: "
        f"{figures['jobs_per_second']:.0f} jobs/s "
        f"({figures['calls']:.0f} CRM calls, {figures['activities']:.0f} activities)"
    )
    print(
        f"  rate limit {rate:g} calls/s per configuration x {configurations}: "
        f"max {figures['max_calls_1s']:.0f} calls in any 1 s (allowed "
        f"{figures['allowed_1s']:.0f}), max {figures['max_calls_100ms']:.0f} in any 100 ms "
        f"(allowed {figures['allowed_100ms']:.0f}): {'HELD' if held else 'EXCEEDED'}"
    )


@asynccontextmanager
async def _database(server_url: str) -> AsyncIterator[str]:
    """A throw-away database: a SQLite file, or (given a PostgreSQL URL) a fresh database on
    that server, dropped afterwards, so the benchmark never touches existing data."""
    if not server_url or is_sqlite(server_url):
        with tempfile.TemporaryDirectory() as tmp:
            yield server_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        return
    sys.path.insert(0, _ROOT)
    from tests.postgres import throwaway_database

    async with throwaway_database(server_url, "cc_bench") as url:
        yield url


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--configurations", type=int, default=4)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    async with _database(args.database_url) as url:
        print(
            f"database: {url.split('@')[-1]}  CRM latency: {args.latency * 1000:.0f} ms per "
            f"call  concurrency: {args.concurrency}"
        )
        figures = await run(
            url,
            jobs=args.jobs,
            latency=args.latency,
            configurations=args.configurations,
            rate=args.rate,
            burst=args.burst,
            concurrency=args.concurrency,
        )
        _print("Throughput", figures, args.rate, args.configurations)
        slow_rate = 40.0
        throttled = await run(
            url,
            jobs=200,
            latency=args.latency,
            configurations=1,
            rate=slow_rate,
            burst=args.burst,
            concurrency=args.concurrency,
        )
        _print("Throttled (one configuration)", throttled, slow_rate, 1)


if __name__ == "__main__":
    asyncio.run(main())
