"""HubSpot's batch endpoints for many memorialization jobs at once (``write_records``),
against the simulator: the requests, each job's own answer, a whole-batch refusal, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from crm.errors import CrmNotFoundError, CrmRateLimitedError, CrmRejectedError
from crm.models import RecordWrite, TimelineActivity, TimelineRef
from crm.protocol import BatchWriting
from crm.record_write import batch_limit

from .sim_hubspot import HubSpotSim, start_adapter


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def _write(
    sim: HubSpotSim, record_id: str, title: str, *, object_type: str = "contacts", **extra
) -> RecordWrite:
    field = "jobtitle" if object_type == "contacts" else "subject"
    return RecordWrite(
        record_type=object_type,
        record_id=record_id,
        fields={field: title},
        activity=TimelineActivity(
            key=f"int-{title}:{object_type}:{record_id}",
            record_type=object_type,
            record_id=record_id,
            subject=f"Call {title}",
        ),
        activity_may_exist=extra.get("may_exist", False),
    )


def _contacts(sim: HubSpotSim, count: int) -> list[str]:
    return [sim.insert("contacts", {"lastname": f"Batch {n}"}) for n in range(count)]


def _paths(sim: HubSpotSim) -> list[str]:
    return [path for _, path, _ in sim.requests]


async def test_many_jobs_are_one_update_per_type_and_one_create(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    assert isinstance(adapter, BatchWriting) and batch_limit(adapter) == 100
    contacts = _contacts(sim, 12)
    ticket = sim.insert("tickets", {"subject": "Alt", "hs_pipeline": "0", "hs_pipeline_stage": "1"})
    writes = [_write(sim, c, f"t{n}") for n, c in enumerate(contacts)]
    writes.append(_write(sim, ticket, "tk", object_type="tickets"))
    sim.requests.clear()
    outcomes = await adapter.write_records(writes)
    assert _paths(sim) == [
        "/crm/v3/objects/contacts/batch/update",
        "/crm/v3/objects/tickets/batch/update",
        "/crm/v3/objects/calls/batch/create",
    ]
    assert all(isinstance(o, TimelineRef) and o.created for o in outcomes)
    for write, outcome in zip(writes, outcomes, strict=True):
        assert isinstance(outcome, TimelineRef)
        link = ("calls", outcome.id, write.record_type, write.record_id)
        assert any(found[:4] == link for found in sim.links), link
        props = sim.objects[write.record_type][write.record_id]["properties"]
        assert write.fields == {k: props[k] for k in write.fields}


async def test_a_record_that_does_not_exist_fails_its_own_write_only(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    contacts = _contacts(sim, 3)
    writes = [_write(sim, c, f"n{n}") for n, c in enumerate(contacts)]
    writes.insert(1, _write(sim, "999999", "gone"))
    sim.requests.clear()
    outcomes = await adapter.write_records(writes)
    assert isinstance(outcomes[1], CrmNotFoundError)
    assert [isinstance(o, TimelineRef) for o in outcomes] == [True, False, True, True]
    assert sim.batch_sizes[-1] == 3  # the missing record's call was not sent


async def test_a_refused_value_refuses_the_batch_then_each_job_answers_alone(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    contacts = _contacts(sim, 3)
    writes = [_write(sim, c, f"v{n}") for n, c in enumerate(contacts)]
    writes[2] = writes[2].model_copy(update={"fields": {"lifecyclestage": "no-such-stage"}})
    outcomes = await adapter.write_records(writes)
    assert isinstance(outcomes[2], CrmRejectedError)
    assert outcomes[2].field == "lifecyclestage"
    assert all(isinstance(o, TimelineRef) for o in outcomes[:2])
    assert sim.calls_for("contacts", contacts[2]) == []  # its call was not linked
    assert len([c for c in contacts[:2] if sim.calls_for("contacts", c)]) == 2


async def test_a_retry_finds_the_calls_an_earlier_attempt_created(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    contacts = _contacts(sim, 4)
    writes = [_write(sim, c, f"r{n}") for n, c in enumerate(contacts)]
    first = await adapter.write_records(writes[:2])  # sent, say, before a time-out
    retried = [w.model_copy(update={"activity_may_exist": True}) for w in writes]
    sim.requests.clear()
    outcomes = await adapter.write_records(retried)
    assert _paths(sim) == [
        "/crm/v3/objects/contacts/batch/update",
        "/crm/v3/objects/calls/search",  # one search for every retried key
        "/crm/v3/objects/calls/batch/create",
    ]
    assert [(o.id, o.created) for o in outcomes[:2] if isinstance(o, TimelineRef)] == [
        (f.id, False) for f in first if isinstance(f, TimelineRef)
    ]
    assert sim.batch_sizes[-1] == 2
    for contact in contacts:
        assert len(sim.calls_for("contacts", contact)) == 1


async def test_a_throttled_batch_is_a_rate_limit_error_with_the_wait(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    contacts = _contacts(sim, 2)
    sim.throttle_next(retry_after="3")
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_records([_write(sim, c, f"x{n}") for n, c in enumerate(contacts)])
    assert caught.value.retry_after == 3.0
    assert all(sim.calls_for("contacts", c) == [] for c in contacts)


async def test_one_write_takes_the_single_requests(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    [contact] = _contacts(sim, 1)
    sim.requests.clear()
    [outcome] = await adapter.write_records([_write(sim, contact, "one")])
    assert isinstance(outcome, TimelineRef)
    assert [m for m, _, _ in sim.requests] == ["PATCH", "POST"]
