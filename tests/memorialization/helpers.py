"""Helpers shared by the worker tests."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from bot.memorialization import enqueue
from bot.memorialization.worker import WorkerOptions
from bot.storage.job_tables import MemorializationJobRow
from tests.bot.conftest import AUTH, Bot

from .conftest import MAPPING

FAST = WorkerOptions(
    max_attempts=6,
    backoff_base_seconds=0.01,
    backoff_max_seconds=0.05,
    lease_seconds=5,
    rate_per_second=1000,
    burst=50,
    concurrency=16,
    grace_seconds=2,
    poll_seconds=0.02,
    call_timeout_seconds=2,
)


async def add_jobs(sessions, *snapshots, mapping=MAPPING) -> list[int]:
    async with sessions() as session, session.begin():
        ids = []
        for snapshot in snapshots:
            ids += [row.id for row in await enqueue(session, snapshot, mapping)]
        return ids


async def jobs(sessions) -> list[MemorializationJobRow]:
    async with sessions() as session:
        return list(
            (
                await session.execute(
                    select(MemorializationJobRow).order_by(MemorializationJobRow.id)
                )
            ).scalars()
        )


async def wait_settled(sessions, deadline_seconds: float = 20.0) -> list[MemorializationJobRow]:
    """Every job done or failed (a safety timeout, not a timed assertion)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        rows = await jobs(sessions)
        if all(row.status in ("done", "failed") for row in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not settled: {[(r.id, r.status) for r in rows]}")
        await asyncio.sleep(0.02)


async def api_jobs(bot: Bot, interaction_id: str) -> list[dict[str, Any]]:
    """The interaction's jobs as the memorialization API lists them."""
    response = await bot.client.get(
        f"/api/v1/memorializations?interactionId={interaction_id}", headers=AUTH
    )
    assert response.status == 200
    return (await response.json())["memorializations"]  # type: ignore[no-any-return]


async def api_settled(bot: Bot, interaction_id: str) -> list[dict[str, Any]]:
    """The interaction's jobs once there are some and all are done or failed."""
    async with asyncio.timeout(20):  # safety net, not a timed assertion
        while True:
            jobs = await api_jobs(bot, interaction_id)
            if jobs and all(job["status"] in ("done", "failed") for job in jobs):
                return jobs
            await asyncio.sleep(0.05)
