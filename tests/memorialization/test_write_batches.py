"""Jobs for one configuration sent together where the CRM takes several records' writes in
one request (``crm.protocol.BatchWriting``), against the stand-in CRM's batch request."""

from __future__ import annotations

from dataclasses import replace
from math import isclose

import httpx
import pytest

from bot.memorialization import MemorializationWorker

from .conftest import make_snapshot
from .fake_crm import FakeBatchCrmAdapter, create_app
from .helpers import FAST, add_jobs, wait_settled


@pytest.fixture
async def batch_crm(aiohttp_server, crm_state):
    server = await aiohttp_server(create_app(crm_state))
    async with httpx.AsyncClient(timeout=0.3) as http:
        yield FakeBatchCrmAdapter(str(server.make_url("/")), http, limit=10)


async def _run(sessions, adapter, **options):
    async def provider(configuration_id):
        return adapter

    worker = MemorializationWorker(sessions, provider, replace(FAST, **options))
    await worker.start()
    try:
        return await wait_settled(sessions)
    finally:
        await worker.stop()


def _interactions(count):
    return [make_snapshot(f"int-{n}", targets=[("contact", f"c-{n}")]) for n in range(1, count + 1)]


async def test_jobs_waiting_for_the_limiter_share_a_request(sqlite_sessions, batch_crm, crm_state):
    await add_jobs(sqlite_sessions, *_interactions(30))
    rows = await _run(sqlite_sessions, batch_crm, rate_per_second=10, burst=1, concurrency=32)
    assert [row.status for row in rows] == ["done"] * 30
    # every record written and linked once, in far fewer requests than jobs
    assert sorted(key for _, key, _ in crm_state.updates) == sorted(f"c-{n}" for n in range(1, 31))
    assert set(crm_state.activities_by_key().values()) == {1} and len(crm_state.activities) == 30
    assert sum(crm_state.batch_sizes) == 30 and max(crm_state.batch_sizes) <= 10
    assert crm_state.calls["batch"] <= 8, crm_state.batch_sizes
    assert not crm_state.finds  # first attempts look nothing up
    # each job is charged its share: together, every request the CRM saw
    requests = crm_state.calls["batch"] + crm_state.calls["fields"]
    assert isclose(sum(row.result["crmCalls"] for row in rows), requests, abs_tol=0.01)


async def test_an_idle_crm_gets_each_write_at_once(sqlite_sessions, batch_crm, crm_state):
    await add_jobs(sqlite_sessions, *_interactions(1))
    [row] = await _run(sqlite_sessions, batch_crm)
    assert row.status == "done" and crm_state.batch_sizes == [1]


async def test_a_refused_write_fails_its_own_job_only(sqlite_sessions, batch_crm, crm_state):
    snapshots = _interactions(5) + [make_snapshot("int-x", targets=[("contact", "c-999")])]
    await add_jobs(sqlite_sessions, *snapshots)
    rows = await _run(sqlite_sessions, batch_crm, rate_per_second=5, burst=1)
    by_interaction = {row.interaction_id: row for row in rows}
    assert by_interaction.pop("int-x").last_error_code == "crm_not_found"
    assert {row.status for row in by_interaction.values()} == {"done"}
    assert len(crm_state.activities) == 5


async def test_a_throttled_batch_goes_again_whole(sqlite_sessions, batch_crm, crm_state):
    await add_jobs(sqlite_sessions, *_interactions(12))
    crm_state.fail_next(1, "429", retry_after=0.2, only="batch")
    rows = await _run(sqlite_sessions, batch_crm, rate_per_second=20, burst=1)
    assert [row.status for row in rows] == ["done"] * 12
    assert set(crm_state.activities_by_key().values()) == {1} and len(crm_state.activities) == 12


async def test_activities_of_a_batch_that_timed_out_are_found_not_repeated(
    sqlite_sessions, batch_crm, crm_state
):
    await add_jobs(sqlite_sessions, *_interactions(6))
    crm_state.fail_next(1, "timeout", only="batch")  # written, but answered too late
    rows = await _run(sqlite_sessions, batch_crm, rate_per_second=5, burst=1)
    assert [row.status for row in rows] == ["done"] * 6
    assert set(crm_state.activities_by_key().values()) == {1} and len(crm_state.activities) == 6
    assert crm_state.finds  # the retried jobs looked their keys up
