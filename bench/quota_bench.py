"""Memorialization against a throttling CRM: jobs per minute vs the quota it advertises.

    .venv/bin/python bench/quota_bench.py [--jobs 150] [--limit 60] [--window 3]
        [--concurrency 32]

The real HubSpot adapter writes to the HubSpot simulator (tests/crm/sim_hubspot.py) over
loopback HTTP. The simulator enforces a rolling quota of ``--limit`` requests in any
``--window`` seconds (HubSpot's ten-secondly policy: 100 to 190 per 10 s), advertises it on
every reply (``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds``) and refuses a
request over it with 429 and no Retry-After. The worker's own rate (1,000 calls/s, burst 50)
is far above the quota, so the quota is what bounds it.

Prints the requests the CRM accepted per second against the advertised ``limit / window``
(the drain ratio; target >= 80 %), jobs per minute against the advertised quota in jobs
(``limit / window * 60 / CRM calls per job``), the 429s and the CRM calls per job.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.memorialization import MemorializationWorker, WorkerOptions, enqueue
from bot.storage.db import create_engine, session_factory, upgrade_database
from bot.storage.job_tables import MemorializationJobRow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.*

from memorialization_bench import wait_settled  # noqa: E402  (this folder)

from tests.crm.quota_window import RollingQuota  # noqa: E402
from tests.crm.sim_hubspot import start_adapter  # noqa: E402
from tests.memorialization.conftest import make_snapshot  # noqa: E402
from tests.memorialization.test_quota_pacing import MAPPING  # noqa: E402


async def _server(app: Any) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    return server


async def run(*, jobs: int, limit: int, window: float, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_database(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        async with httpx.AsyncClient() as http:
            sim, adapter = await start_adapter(_server, http)
            ids = [
                (await adapter.create("contacts", {"lastname": f"Q{n}"})).id for n in range(jobs)
            ]
            async with sessions() as session, session.begin():
                for n, record_id in enumerate(ids):
                    await enqueue(
                        session, make_snapshot(f"q-{n}", targets=[("contacts", record_id)]), MAPPING
                    )
            sim.quota = quota = RollingQuota(limit, window)

            async def provider(configuration_id: str) -> Any:
                return adapter

            options = WorkerOptions(
                rate_per_second=1000,
                burst=50,
                concurrency=concurrency,
                max_attempts=50,
                backoff_base_seconds=1.0,
                poll_seconds=0.05,
            )
            worker = MemorializationWorker(sessions, provider, options)
            started = time.monotonic()
            await worker.start()
            await wait_settled(sessions, jobs)
            elapsed = time.monotonic() - started
            await worker.stop()
            await adapter.aclose()
        async with sessions() as session:
            rows = (await session.execute(select(MemorializationJobRow))).scalars().all()
        await engine.dispose()
    failed = sum(1 for row in rows if row.status != "done")
    calls = [row.result.get("crmCalls", 0) for row in rows]
    per_job = statistics.mean(calls)
    accepted_per_job = (sum(calls) - quota.refused) / jobs  # refusals cost no quota
    advertised = limit / window
    return {
        "jobs": jobs,
        "failed": failed,
        "seconds": elapsed,
        "accepted_per_second": quota.accepted / elapsed,
        "advertised_per_second": advertised,
        "refused": quota.refused,
        "calls_per_job": per_job,
        "jobs_per_minute": jobs / elapsed * 60,
        "quota_jobs_per_minute": advertised * 60 / accepted_per_job,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--window", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    f = await run(
        jobs=args.jobs, limit=args.limit, window=args.window, concurrency=args.concurrency
    )
    print(
        f"quota: {args.limit} requests per {args.window:g} s rolling "
        f"({f['advertised_per_second']:.1f}/s advertised)"
    )
    print(
        f"  {f['jobs']:.0f} jobs in {f['seconds']:.1f} s ({f['failed']:.0f} not done), "
        f"{f['calls_per_job']:.2f} CRM calls per job, {f['refused']:.0f} refused (429)"
    )
    print(
        f"  CRM accepted {f['accepted_per_second']:.1f} requests/s: "
        f"{f['accepted_per_second'] / f['advertised_per_second']:.0%} of the advertised quota"
    )
    print(
        f"  {f['jobs_per_minute']:.0f} jobs/min; the quota allows {f['quota_jobs_per_minute']:.0f} "
        f"at the calls per job it accepted: "
        f"{f['jobs_per_minute'] / f['quota_jobs_per_minute']:.0%}"
    )


if __name__ == "__main__":
    asyncio.run(main())
