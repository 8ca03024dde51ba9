"""The worker as separate service processes: killed with SIGKILL mid-run and restarted
(nothing lost, nothing doubled), and three processes sharing one PostgreSQL database (every
job runs exactly once)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from .conftest import make_snapshot
from .helpers import add_jobs, wait_settled

RUNNER = Path(__file__).with_name("worker_runner.py")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


async def _start(database_url: str, crm_url: str, *extra: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUNNER),
        database_url,
        crm_url,
        *extra,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def _ready(process: asyncio.subprocess.Process) -> None:
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.strip() == b"ready", line


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 30)


def _snapshots(count: int):
    return [
        make_snapshot(
            f"int-{n}", targets=[("contact", f"c-{n % 50 + 1}"), ("case", f"k-{n % 50 + 1}")]
        )
        for n in range(count)
    ]


def _assert_each_job_wrote_once(rows, crm_state) -> None:
    assert [row.status for row in rows] == ["done"] * len(rows)
    keys = {row.timeline_key for row in rows}
    by_key = crm_state.activities_by_key()
    assert set(by_key) == keys and set(by_key.values()) == {1}


async def test_killed_service_process_restarts_and_loses_nothing(
    sqlite_url, sqlite_sessions, aiohttp_server, crm_state
):
    from .fake_crm import create_app

    server = await aiohttp_server(create_app(crm_state))
    crm_state.latency = 0.05
    await add_jobs(sqlite_sessions, *_snapshots(40))  # 80 jobs
    crm_url = str(server.make_url("/"))

    first = await _start(sqlite_url, crm_url, "--lease", "1", "--concurrency", "8")
    await _ready(first)
    # mid-run, with creates in flight (the CRM is still "working" on the 10th)
    await asyncio.wait_for(crm_state.wait_for_calls("timeline", 10), 30)
    first.kill()  # SIGKILL: no shutdown code runs
    assert await first.wait() == -signal.SIGKILL
    unfinished = [row for row in await _jobs(sqlite_sessions) if row.status != "done"]
    assert any(row.status == "running" for row in unfinished)  # leases left behind

    second = await _start(sqlite_url, crm_url, "--lease", "1", "--concurrency", "8")
    await _ready(second)
    rows = await wait_settled(sqlite_sessions, deadline_seconds=60)
    assert await _stop(second) == 0
    _assert_each_job_wrote_once(rows, crm_state)
    taken_over = [row for row in rows if row.attempts > 1]
    assert taken_over  # the killed process's jobs were finished by the new one
    # a create that reached the CRM before the kill was found by key, not repeated
    assert len(crm_state.activities) == len(rows)


async def _jobs(sessions):
    from .helpers import jobs

    return await jobs(sessions)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_three_processes_on_postgresql_run_every_job_once(
    database_url, sessions, aiohttp_server, crm_state
):
    from .fake_crm import create_app

    server = await aiohttp_server(create_app(crm_state))
    crm_state.latency = 0.01
    await add_jobs(sessions, *_snapshots(100))  # 200 jobs
    crm_url = str(server.make_url("/"))
    processes = [
        await _start(
            database_url,
            crm_url,
            "--lease",
            "30",
            "--concurrency",
            "6",
            "--owner",
            f"worker-{n}",
            "--wait-for-go",
        )
        for n in range(3)
    ]
    for process in processes:  # start together, so all three compete for every batch
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    for process in processes:
        await _ready(process)
    rows = await wait_settled(sessions, deadline_seconds=90)
    assert [await _stop(process) for process in processes] == [0, 0, 0]
    _assert_each_job_wrote_once(rows, crm_state)
    # no job ran twice: one field write per job, and no look-up by key (on a first
    # attempt nothing can have been sent before)
    assert not crm_state.finds
    assert len(crm_state.updates) == len(rows)
    assert all(row.attempts == 1 for row in rows)
    assert len({row.result["worker"] for row in rows}) >= 2
