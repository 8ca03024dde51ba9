"""The outbox on SQLite and PostgreSQL: enqueue, claim, leases, ordering, admin retry."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from bot.memorialization import enqueue, leases, list_jobs, retry_job
from bot.storage.job_tables import MemorializationJobRow
from crm.errors import ConflictError, NotFoundError

from .conftest import MAPPING, make_snapshot


async def _enqueue(sessions, snapshot, mapping=MAPPING):
    async with sessions() as session, session.begin():
        return [row.id for row in await enqueue(session, snapshot, mapping)]


async def _rows(sessions):
    async with sessions() as session:
        return list(
            (
                await session.execute(
                    select(MemorializationJobRow).order_by(MemorializationJobRow.id)
                )
            ).scalars()
        )


async def test_enqueue_writes_one_job_per_target_with_its_rules(sessions):
    snapshot = make_snapshot(targets=[("contact", "c-1"), ("case", "k-1"), ("Contact", "c-1")])
    await _enqueue(sessions, snapshot)
    rows = await _rows(sessions)
    assert [(r.record_type, r.record_id, r.status) for r in rows] == [
        ("contact", "c-1", "pending"),
        ("case", "k-1", "pending"),
    ]
    assert [rule["crmField"] for rule in rows[1].payload["rules"]] == ["status"]
    assert rows[0].payload["snapshot"]["interactionId"] == "int-1"
    assert rows[0].timeline_key != rows[1].timeline_key


async def test_enqueue_in_a_rolled_back_transaction_leaves_nothing(sessions):
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await enqueue(session, make_snapshot(), MAPPING)
            raise RuntimeError("storing the event failed")
    assert await _rows(sessions) == []


async def test_the_same_trigger_queued_twice_makes_no_second_job(sessions):
    await _enqueue(sessions, make_snapshot())
    assert await _enqueue(sessions, make_snapshot()) == []
    # a second hand-off of a digital interaction is a new occurrence: a new job
    second = make_snapshot(channel="digital", trigger="transferred", occurrence="ev-2")
    assert len(await _enqueue(sessions, second)) == 1
    assert len(await _rows(sessions)) == 2


async def test_claim_leases_each_job_to_one_worker(sessions):
    for index in range(6):
        await _enqueue(sessions, make_snapshot(f"int-{index}", targets=[("contact", f"c-{index}")]))
    first = await leases.claim(sessions, "w1", limit=4, lease_seconds=30)
    second = await leases.claim(sessions, "w2", limit=4, lease_seconds=30)
    assert [job.id for job in first] == [1, 2, 3, 4]
    assert [job.id for job in second] == [5, 6]
    assert all(job.attempts == 1 for job in first + second)
    assert await leases.claim(sessions, "w3", limit=4, lease_seconds=30) == []


async def test_concurrent_claims_never_share_a_job(sessions):
    for index in range(40):
        await _enqueue(sessions, make_snapshot(f"int-{index}", targets=[("contact", f"c-{index}")]))
    batches = await asyncio.gather(
        *(leases.claim(sessions, f"w{n}", limit=7, lease_seconds=30) for n in range(8))
    )
    ids = [job.id for batch in batches for job in batch]
    assert sorted(ids) == list(range(1, 41))


async def test_an_expired_lease_is_taken_over_and_the_old_owner_is_shut_out(sessions):
    await _enqueue(sessions, make_snapshot())
    [job] = await leases.claim(sessions, "crashed", limit=1, lease_seconds=30)
    assert await leases.claim(sessions, "w2", limit=1, lease_seconds=30) == []
    later = time.time() + 31
    [taken] = await leases.claim(sessions, "w2", limit=1, lease_seconds=30, now=later)
    assert taken.id == job.id and taken.attempts == 2
    # the first owner comes back: its result is refused, the new owner's counts
    assert not await leases.complete(sessions, job, "crashed")
    assert await leases.complete(sessions, taken, "w2")
    [row] = await _rows(sessions)
    assert row.status == "done" and row.lease_owner is None


async def test_a_later_job_for_the_same_record_waits_for_the_earlier_one(sessions):
    await _enqueue(sessions, make_snapshot("int-1"))
    await _enqueue(sessions, make_snapshot("int-2"))  # same record c-1
    await _enqueue(sessions, make_snapshot("int-3", targets=[("contact", "c-2")]))
    claimed = await leases.claim(sessions, "w", limit=10, lease_seconds=30)
    assert [job.interaction_id for job in claimed] == ["int-1", "int-3"]
    first = claimed[0]
    assert await leases.complete(sessions, claimed[1], "w")
    await leases.reschedule(
        sessions, first, "w", at=time.time() + 60, error_code="x", error="retry later"
    )
    # still unfinished (waiting for its retry): the later job keeps waiting
    assert await leases.claim(sessions, "w", limit=10, lease_seconds=30) == []
    [again] = await leases.claim(sessions, "w", limit=10, lease_seconds=30, now=time.time() + 61)
    assert again.id == first.id
    assert await leases.complete(sessions, again, "w")
    [second] = await leases.claim(sessions, "w", limit=10, lease_seconds=30)
    assert second.interaction_id == "int-2"


async def test_release_hands_the_job_back_without_counting_the_attempt(sessions):
    await _enqueue(sessions, make_snapshot())
    [job] = await leases.claim(sessions, "w", limit=1, lease_seconds=30)
    job.progress.timeline_id = "act-1"
    assert await leases.release(sessions, job, "w")
    [row] = await _rows(sessions)
    assert (row.status, row.attempts, row.timeline_id) == ("pending", 0, "act-1")
    [again] = await leases.claim(sessions, "w2", limit=1, lease_seconds=30)
    assert again.progress.timeline_id == "act-1"


async def test_renew_extends_only_the_owners_leases(sessions):
    await _enqueue(sessions, make_snapshot())
    [job] = await leases.claim(sessions, "w", limit=1, lease_seconds=1)
    assert await leases.renew_leases(sessions, "other", [job.id], 60) == 0
    assert await leases.renew_leases(sessions, "w", [job.id], 60) == 1
    assert await leases.claim(sessions, "w2", limit=1, lease_seconds=30, now=time.time() + 5) == []


async def test_failed_jobs_are_listed_and_can_be_retried_once_failed(sessions):
    await _enqueue(sessions, make_snapshot("int-1"))
    await _enqueue(sessions, make_snapshot("int-2", targets=[("contact", "c-2")]))
    [job, other] = await leases.claim(sessions, "w", limit=2, lease_seconds=30)
    await leases.fail(sessions, job, "w", error_code="crm_rejected", error="Bad field")
    await leases.complete(sessions, other, "w")
    async with sessions() as session:
        failed = await list_jobs(session, status="failed")
        assert [(r.id, r.last_error) for r in failed] == [(job.id, "Bad field")]
        assert [r.id for r in await list_jobs(session, interaction_id="int-2")] == [other.id]
    async with sessions() as session, session.begin():
        with pytest.raises(ConflictError):
            await retry_job(session, other.id)
        with pytest.raises(NotFoundError):
            await retry_job(session, 999)
        row = await retry_job(session, job.id)
        assert (row.status, row.attempts, row.result["retried"]) == ("pending", 0, 1)
    [again] = await leases.claim(sessions, "w", limit=2, lease_seconds=30)
    assert again.id == job.id


async def test_a_voice_call_has_one_timeline_key_per_record_a_chat_one_per_hand_off(sessions):
    ended = make_snapshot(trigger="ended")
    completed = make_snapshot(trigger="acw_completed")
    handed_on = make_snapshot(channel="digital", trigger="transferred", occurrence="ev-1")
    dismissed = make_snapshot(channel="digital", trigger="dismissed", occurrence="ev-2")
    for snapshot in (ended, completed, handed_on, dismissed):
        await _enqueue(sessions, snapshot)
    rows = await _rows(sessions)
    assert len(rows) == 4  # four triggers, four jobs
    keys = [row.timeline_key for row in rows]
    assert keys[0] == keys[1]  # the call: one activity, however it was triggered
    assert len({keys[1], keys[2], keys[3]}) == 3
