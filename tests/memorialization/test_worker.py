"""The worker against the stand-in CRM: writes, failures and recovery, limits, shutdown."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from bot.memorialization import MemorializationWorker, failed_for_interaction, leases, retry_job
from bot.memorialization.values import TRUNCATION_MARKER
from crm.mappings import MemorializationMapping

from .conftest import make_snapshot
from .helpers import FAST, add_jobs, jobs, wait_settled


def _worker(sessions, adapter, **options):
    async def provider(configuration_id):
        return adapter

    return MemorializationWorker(sessions, provider, replace(FAST, **options))


async def _run(sessions, adapter, **options):
    worker = _worker(sessions, adapter, **options)
    await worker.start()
    try:
        return await wait_settled(sessions)
    finally:
        await worker.stop()


async def test_each_target_gets_its_fields_and_one_timeline_activity(sessions, fake_crm, crm_state):
    await add_jobs(sessions, make_snapshot(targets=[("contact", "c-1"), ("case", "k-1")]))
    rows = await _run(sessions, fake_crm)
    assert [row.status for row in rows] == ["done", "done"]
    assert crm_state.records[("contact", "c-1")] == {
        "last_call_skill": "Billing",
        "last_disposition": "Resolved",
        "last_call_at": "2025-05-01T09:30:00+00:00",
        "tags": "vip",
        "vip_flag": "true",
    }
    assert crm_state.records[("case", "k-1")] == {"status": "Closed"}
    activities = {(a["record_type"], a["record_id"]): a for a in crm_state.activities}
    assert set(activities) == {("contact", "c-1"), ("case", "k-1")}
    call = activities[("contact", "c-1")]
    assert call["subject"] == "Inbound call (Billing)"
    assert call["duration_seconds"] == 180 and call["agent_name"] == "Ada Agent"
    assert rows[0].timeline_id == call["id"]
    assert rows[0].result["fields"] == [
        "last_call_at",
        "last_call_skill",
        "last_disposition",
        "tags",
        "vip_flag",
    ]


async def test_contact_ended_first_skips_status_disposition_and_tags(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(
        sqlite_sessions,
        make_snapshot(ended_by="contact", targets=[("contact", "c-1"), ("case", "k-1")]),
    )
    await _run(sqlite_sessions, fake_crm)
    assert crm_state.records[("contact", "c-1")] == {
        "last_call_skill": "Billing",
        "last_call_at": "2025-05-01T09:30:00+00:00",
        "vip_flag": "true",
    }
    assert crm_state.records[("case", "k-1")] == {}  # only Status was mapped
    assert crm_state.calls["update"] == 1
    assert all(a["disposition"] is None for a in crm_state.activities)


async def test_crm_failing_with_500_429_and_timeouts_then_recovering(sessions, fake_crm, crm_state):
    snapshots = [make_snapshot(f"int-{n}", targets=[("contact", f"c-{n}")]) for n in range(1, 21)]
    await add_jobs(sessions, *snapshots)
    crm_state.fail_next(4, "500")
    crm_state.fail_next(3, "429", retry_after=0.05)
    crm_state.hang_seconds = 0.5  # beyond the adapter's 0.3 s timeout
    crm_state.fail_next(3, "timeout", only="timeline")  # created, but the reply is too late
    crm_state.fail_next(2, "timeout", only="update")
    # a failed metadata look-up fails every job waiting for it: allow for 12 rounds
    rows = await _run(sessions, fake_crm, max_attempts=15)
    assert [row.status for row in rows] == ["done"] * 20
    assert not crm_state.failures  # every programmed failure happened
    # nothing doubled: one activity per job, each job's values written
    assert sorted(crm_state.activities_by_key().values()) == [1] * 20
    assert {a["key"] for a in crm_state.activities} == {row.timeline_key for row in rows}
    assert all(
        crm_state.records[("contact", f"c-{n}")]["last_call_skill"] == "Billing"
        for n in range(1, 21)
    )
    retried = [row for row in rows if row.attempts > 1]
    assert retried and all(row.last_error is None for row in rows)
    # the activities whose reply timed out were found again, not created twice
    assert sum(1 for row in rows if row.result["timeline"]["created"] is False) == 3


async def test_retry_after_pauses_the_configuration_for_as_long_as_asked(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(
        sqlite_sessions,
        *[make_snapshot(f"int-{n}", targets=[("contact", f"c-{n}")]) for n in range(1, 4)],
    )
    crm_state.fail_next(1, "429", retry_after=0.3, only="fields")
    await _run(sqlite_sessions, fake_crm)
    first_429 = crm_state.call_times[0][0]
    later = [t for t, kind in crm_state.call_times[1:]]
    assert later and min(later) - first_429 >= 0.3


async def test_a_refused_write_fails_at_once_and_stays_visible(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot(targets=[("contact", "missing")]))
    [row] = await _run(sqlite_sessions, fake_crm)
    assert (row.status, row.attempts, row.last_error_code) == ("failed", 1, "crm_not_found")
    assert "No such record" in row.last_error
    async with sqlite_sessions() as session:
        assert [r.id for r in await failed_for_interaction(session, "int-1")] == [row.id]


async def _run_noting(sessions, adapter, changed, **options):
    async def provider(configuration_id):
        return adapter

    worker = MemorializationWorker(
        sessions, provider, replace(FAST, **options), on_change=changed.append
    )
    await worker.start()
    try:
        return await wait_settled(sessions)
    finally:
        await worker.stop()


async def test_after_the_last_attempt_a_job_fails_and_an_admin_retry_finishes_it(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot())
    crm_state.fail_next(3, "500", only="update")
    changed: list[str] = []
    [row] = await _run_noting(sqlite_sessions, fake_crm, changed, max_attempts=3)
    assert (row.status, row.attempts, row.last_error_code) == ("failed", 3, "crm_unavailable")
    assert crm_state.activities == []
    assert changed == ["int-1"]  # the card gets its "could not be logged" note
    async with sqlite_sessions() as session, session.begin():
        await retry_job(session, row.id)
    [row] = await _run_noting(sqlite_sessions, fake_crm, changed, max_attempts=3)
    assert (row.status, row.attempts) == ("done", 1)
    assert len(crm_state.activities) == 1
    assert changed == ["int-1", "int-1"]  # and loses it again


async def test_a_retried_job_links_its_activity_once(sqlite_sessions, fake_crm, crm_state):
    await add_jobs(sqlite_sessions, make_snapshot())
    crm_state.fail_next(2, "500", only="timeline")
    [row] = await _run(sqlite_sessions, fake_crm)
    assert (row.status, row.attempts) == ("done", 3)
    # one CRM without a composite request: each attempt sends the same values again ...
    assert crm_state.calls["update"] == 3
    # ... and only the attempts after one that sent the activity look its key up first
    assert crm_state.finds[row.timeline_key] == 2
    assert len(crm_state.activities) == 1


async def test_an_activity_sent_before_a_timeout_is_found_not_repeated(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot())
    crm_state.fail_next(1, "timeout", only="timeline")  # stored, but answered too late
    [row] = await _run(sqlite_sessions, fake_crm)
    assert (row.status, row.attempts) == ("done", 2)
    assert len(crm_state.activities) == 1
    assert row.timeline_id == crm_state.activities[0]["id"]


async def test_long_transcript_reaches_the_crm_cut_with_a_marker(
    sqlite_sessions, fake_crm, crm_state
):
    transcript = "Agent: hello\nCustomer: my order is late\n" * 100  # ~4,000 characters
    await add_jobs(
        sqlite_sessions,
        make_snapshot(channel="digital", trigger="dismissed", **{"Transcription Text": transcript}),
    )
    [row] = await _run(sqlite_sessions, fake_crm)
    assert row.status == "done"
    written = crm_state.records[("contact", "c-1")]["transcript"]
    assert len(written) == 1000 and written.endswith(TRUNCATION_MARKER)
    assert row.result["truncated"] == [
        {"field": "transcript", "originalLength": len(transcript), "keptLength": 1000}
    ]


async def test_a_stale_retry_does_not_overwrite_newer_values(sqlite_sessions, fake_crm, crm_state):
    await add_jobs(sqlite_sessions, make_snapshot("int-old", **{"Skill Name": "Old"}))
    crm_state.fail_next(1, "400", only="update")
    [old] = await _run(sqlite_sessions, fake_crm)
    assert old.status == "failed"
    await add_jobs(sqlite_sessions, make_snapshot("int-new", **{"Skill Name": "New"}))
    await _run(sqlite_sessions, fake_crm)
    async with sqlite_sessions() as session, session.begin():
        await retry_job(session, old.id)
    old, new = await _run(sqlite_sessions, fake_crm)
    assert (old.status, new.status) == ("done", "done")
    assert crm_state.records[("contact", "c-1")]["last_call_skill"] == "New"
    assert old.result["supersededBy"] == new.id
    assert len(crm_state.activities) == 2  # the old interaction still gets its activity


async def test_a_crashed_workers_job_is_taken_over_after_its_lease(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot())
    await leases.claim(sqlite_sessions, "dead-worker", limit=1, lease_seconds=0.2)
    [row] = await _run(sqlite_sessions, fake_crm)
    assert (row.status, row.attempts) == ("done", 2)
    assert len(crm_state.activities) == 1


async def test_shutdown_waits_for_jobs_in_flight_within_the_grace_period(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot())
    crm_state.latency = 0.1
    worker = _worker(sqlite_sessions, fake_crm, grace_seconds=5)
    await worker.start()
    await asyncio.wait_for(crm_state.wait_for_calls("fields", 1), 10)
    await worker.stop()
    [row] = await jobs(sqlite_sessions)
    assert row.status == "done"


async def test_shutdown_releases_jobs_that_outlast_the_grace_period(
    sqlite_sessions, fake_crm, crm_state
):
    await add_jobs(sqlite_sessions, make_snapshot())
    crm_state.latency = 0.25
    worker = _worker(sqlite_sessions, fake_crm, grace_seconds=0.05)
    await worker.start()
    await asyncio.wait_for(crm_state.wait_for_calls("fields", 1), 10)
    started = time.monotonic()
    await worker.stop()
    assert time.monotonic() - started < 0.25  # did not wait for the CRM
    [row] = await jobs(sqlite_sessions)
    assert (row.status, row.attempts, row.lease_owner) == ("pending", 0, None)
    crm_state.latency = 0
    [row] = await _run(sqlite_sessions, fake_crm)
    assert row.status == "done" and len(crm_state.activities) == 1


async def test_calls_stay_within_the_configuration_rate(sqlite_sessions, fake_crm, crm_state):
    await add_jobs(
        sqlite_sessions,
        *[make_snapshot(f"int-{n}", targets=[("contact", f"c-{n}")]) for n in range(1, 9)],
    )
    rate, burst = 40.0, 2
    await _run(sqlite_sessions, fake_crm, rate_per_second=rate, burst=burst)
    # adapter operations (a first attempt's write is the update, then the activity)
    times = [t for t, kind in crm_state.call_times if kind != "timeline"]
    assert len(times) == 1 + 8  # field metadata once, then one write per job
    # the limiter spaces calls: n calls need at least (n - burst) / rate seconds
    assert times[-1] - times[0] >= (len(times) - burst) / rate - 0.01


async def test_a_record_type_without_a_timeline_gets_its_fields_only(
    sqlite_sessions, fake_crm, crm_state
):
    crm_state.add_record("task", "t-1")
    mapping = MemorializationMapping(
        name="m",
        record_types=[
            {
                "recordType": "task",
                "fields": [
                    {"crmField": "status", "source": {"channel": "voice", "field": "Status"}}
                ],
            }
        ],
    )
    await add_jobs(sqlite_sessions, make_snapshot(targets=[("task", "t-1")]), mapping=mapping)
    [row] = await _run(sqlite_sessions, fake_crm)
    assert (row.status, row.timeline_id) == ("done", None)
    assert row.result["timeline"] == {"skipped": "not_supported"}
    assert crm_state.records[("task", "t-1")] == {"status": "Closed"}
    assert crm_state.activities == []
