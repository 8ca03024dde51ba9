"""A service-like process for the crash and multi-process tests: runs one
``MemorializationWorker`` against a database and the stand-in CRM.

    python worker_runner.py DATABASE_URL CRM_URL [--lease S] [--concurrency N] [--wait-for-go]

Prints ``ready`` once started (after reading ``go`` from stdin with ``--wait-for-go``); stops
gracefully on SIGTERM and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import httpx

from bot.memorialization import MemorializationWorker, WorkerOptions
from bot.storage.db import create_engine, session_factory
from tests.memorialization.fake_crm import FakeCrmAdapter


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("crm_url")
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--owner", default=None)
    parser.add_argument("--wait-for-go", action="store_true")
    args = parser.parse_args()

    if args.wait_for_go:
        await asyncio.to_thread(sys.stdin.readline)
    engine = create_engine(args.database_url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with httpx.AsyncClient(timeout=5) as http:
        adapter = FakeCrmAdapter(args.crm_url, http)

        async def provider(configuration_id: str) -> FakeCrmAdapter:
            return adapter

        options = WorkerOptions(
            max_attempts=20,
            backoff_base_seconds=0.02,
            backoff_max_seconds=0.2,
            lease_seconds=args.lease,
            rate_per_second=10_000,
            burst=100,
            concurrency=args.concurrency,
            grace_seconds=5,
            poll_seconds=0.02,
            call_timeout_seconds=5,
        )
        worker = MemorializationWorker(session_factory(engine), provider, options, owner=args.owner)
        await worker.start()
        print("ready", flush=True)
        await stop.wait()
        await worker.stop()
    await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
