"""Salesforce's Composite request for many memorialization jobs at once (``write_records``),
against the simulator: the requests and subrequests, each job's own answer, retries, the
25-subrequest cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm.adapters.salesforce.wire import (
    COMPOSITE_LIMIT,
    SubRequest,
    composite_outcomes,
    composite_request,
)
from crm.errors import CrmNotFoundError, CrmRateLimitedError, CrmRejectedError
from crm.models import RecordWrite, TimelineActivity, TimelineRef
from crm.protocol import BatchWriting
from crm.record_write import batch_limit
from crm.registry import create_adapter
from tests.crm.sim_salesforce import SalesforceSim, adapter_context

Env = tuple[SalesforceSim, Any]


@pytest.fixture
async def env(aiohttp_server) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    sim = SalesforceSim()
    server = await aiohttp_server(sim.app)
    async with httpx.AsyncClient(timeout=5.0) as http:
        adapter = create_adapter(adapter_context(sim, str(server.make_url("")).rstrip("/"), http))
        yield sim, adapter
        await adapter.aclose()


def _contacts(sim: SalesforceSim, count: int) -> list[str]:
    return [sim.insert("Contact", {"LastName": f"Batch {n}"}) for n in range(count)]


def _write(contact: str, key: str, *, may_exist: bool = False, **fields: Any) -> RecordWrite:
    return RecordWrite(
        record_type="Contact",
        record_id=contact,
        fields=fields,
        activity=TimelineActivity(
            key=key, record_type="Contact", record_id=contact, subject=f"Call {key}"
        ),
        activity_may_exist=may_exist,
    )


def _tasks(sim: SalesforceSim, contact: str) -> list[dict[str, Any]]:
    return [t for t in sim.records["Task"].values() if t["WhoId"] == contact]


def _sent(sim: SalesforceSim, since: int) -> list[tuple[str, str]]:
    return [(method, path.split("/v62.0/")[-1]) for method, path, _ in sim.requests[since:]]


async def test_the_limit_is_the_jobs_one_composite_holds(env: Env) -> None:
    _, sf = env
    assert isinstance(sf, BatchWriting) and batch_limit(sf) == 12
    assert batch_limit(sf) * 2 <= COMPOSITE_LIMIT < (batch_limit(sf) + 1) * 2


async def test_many_jobs_are_one_composite_and_one_api_call(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 12)
    writes = [_write(c, f"job-{n}", Title=f"T{n}") for n, c in enumerate(contacts)]
    writes[5] = _write(contacts[5], "job-5")  # no values: its Task alone
    sent, calls = len(sim.requests), sim.api_calls
    outcomes = await sf.write_records(writes)
    assert _sent(sim, sent) == [("POST", "composite")]
    assert sim.api_calls == calls + 1
    assert sim.composite_sizes[-1] == 23  # 11 PATCHes and 12 Task POSTs
    assert sorted(m for m, _, _ in sim.subrequests) == ["PATCH"] * 11 + ["POST"] * 12
    for n, (contact, outcome) in enumerate(zip(contacts, outcomes, strict=True)):
        [task] = _tasks(sim, contact)
        assert isinstance(outcome, TimelineRef) and outcome.created
        assert (outcome.id, task["CallObject"]) == (task["Id"], f"job-{n}")
        row = sim.records["Contact"][contact]
        assert row["Title"] == (None if n == 5 else f"T{n}")


async def test_more_jobs_than_the_limit_go_in_turn_never_over_the_cap(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 13)
    sent = len(sim.requests)
    outcomes = await sf.write_records(
        [_write(c, f"m{n}", Title="x") for n, c in enumerate(contacts)]
    )
    assert _sent(sim, sent) == [("POST", "composite")] * 2
    assert sim.composite_sizes[-2:] == [24, 2]
    assert all(isinstance(o, TimelineRef) and o.created for o in outcomes)


async def test_a_missing_record_fails_its_own_job_only(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 3)
    writes = [_write(c, f"n{n}", Title="Buyer") for n, c in enumerate(contacts)]
    writes.insert(1, _write("003000000000999AAA", "gone", Title="Buyer"))
    sent = len(sim.requests)
    outcomes = await sf.write_records(writes)
    assert _sent(sim, sent) == [("POST", "composite")]
    assert isinstance(outcomes[1], CrmNotFoundError) and outcomes[1].vendor_status == 404
    assert [isinstance(o, TimelineRef) for o in outcomes] == [True, False, True, True]
    assert all(len(_tasks(sim, c)) == 1 for c in contacts)
    assert all(sim.records["Contact"][c]["Title"] == "Buyer" for c in contacts)


async def test_a_malformed_id_fails_its_job_without_being_sent(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 2)
    writes = [_write(c, f"f{n}", Title="Buyer") for n, c in enumerate(contacts)]
    writes.append(_write("not-an-id", "bad", Title="Buyer"))
    outcomes = await sf.write_records(writes)
    assert isinstance(outcomes[2], CrmNotFoundError)
    assert sim.composite_sizes[-1] == 4


async def test_a_rejected_value_fails_its_own_job_only(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 3)
    writes = [_write(c, f"v{n}", Title="Buyer") for n, c in enumerate(contacts)]
    writes[2] = _write(contacts[2], "v2", Title="x" * 200)  # Title holds 128
    outcomes = await sf.write_records(writes)
    rejected = outcomes[2]
    assert isinstance(rejected, CrmRejectedError)
    assert rejected.field == "Title" and "data value too large" in (rejected.vendor_message or "")
    assert all(isinstance(o, TimelineRef) and o.created for o in outcomes[:2])
    assert [sim.records["Contact"][c]["Title"] for c in contacts] == ["Buyer", "Buyer", None]
    # allOrNone false: its Task stood alone, so the job's retry finds it instead of a second
    assert len(_tasks(sim, contacts[2])) == 1


async def test_retried_jobs_are_one_query_then_one_composite(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 4)
    writes = [_write(c, f"r{n}", Title="Buyer") for n, c in enumerate(contacts)]
    first = await sf.write_records(writes[:2])  # sent, say, before a time-out
    retried = [w.model_copy(update={"activity_may_exist": True}) for w in writes]
    sent = len(sim.requests)
    outcomes = await sf.write_records(retried)
    assert _sent(sim, sent) == [("GET", "query"), ("POST", "composite")]
    soql = sim.requests[sent][2]
    assert "WHERE CallObject IN ('r0', 'r1', 'r2', 'r3')" in soql
    assert sim.composite_sizes[-1] == 6  # 4 PATCHes, 2 Task POSTs
    assert [(o.id, o.created) for o in outcomes[:2] if isinstance(o, TimelineRef)] == [
        (f.id, False) for f in first if isinstance(f, TimelineRef)
    ]
    assert all(isinstance(o, TimelineRef) and o.created for o in outcomes[2:])
    assert all(len(_tasks(sim, c)) == 1 for c in contacts)


async def test_a_retry_keeps_only_tasks_that_carry_its_key(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 2)
    await sf.write_records([_write(contacts[0], "other", Title="x"), _write(contacts[1], "o2")])
    sim.unfiltered.add("Task")  # the look-up answers every Task: a wrong reply
    retried = [_write(c, f"k{n}", may_exist=True) for n, c in enumerate(contacts)]
    outcomes = await sf.write_records(retried)
    assert all(isinstance(o, TimelineRef) and o.created for o in outcomes)
    assert all(len(_tasks(sim, c)) == 2 for c in contacts)


async def test_a_throttled_composite_is_rate_limited_and_writes_nothing(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 2)
    sim.throttle_next = 1
    with pytest.raises(CrmRateLimitedError) as caught:
        await sf.write_records([_write(c, f"x{n}", Title="B") for n, c in enumerate(contacts)])
    assert caught.value.retryable and caught.value.vendor_status == 403
    assert all(
        _tasks(sim, c) == [] and sim.records["Contact"][c]["Title"] is None for c in contacts
    )


async def test_one_write_takes_write_records_single_path(env: Env) -> None:
    sim, sf = env
    [contact] = _contacts(sim, 1)
    sent = len(sim.requests)
    [outcome] = await sf.write_records([_write(contact, "alone")])
    assert _sent(sim, sent) == [("POST", "sobjects/Task/")]  # a plain create, no composite
    assert isinstance(outcome, TimelineRef) and outcome.created


async def test_the_simulator_refuses_more_than_25_subrequests(env: Env) -> None:
    sim, sf = env
    contacts = _contacts(sim, 26)
    parts = [
        SubRequest(f"p{n}", "PATCH", f"sobjects/Contact/{c}", {"Title": "x"})
        for n, c in enumerate(contacts)
    ]
    with pytest.raises(CrmRejectedError) as caught:
        await sf._request("POST", "composite", json=composite_request("62.0", parts))
    assert caught.value.vendor_status == 400 and "LIMIT_EXCEEDED" in str(caught.value)
    assert all(sim.records["Contact"][c]["Title"] is None for c in contacts)
    # 25 go through
    reply = await sf._request("POST", "composite", json=composite_request("62.0", parts[:25]))
    assert all(r["httpStatusCode"] == 204 for r in reply.json()["compositeResponse"])


def test_a_whole_request_error_inside_a_composite_reply_is_raised() -> None:
    parts = [SubRequest("a", "PATCH", "sobjects/Contact/003000000000001AAA", {"Title": "x"})]
    limit = [{"errorCode": "LIMIT_EXCEEDED", "message": "more than 25 operations"}]
    entry = {"body": limit, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": None}
    with pytest.raises(CrmRejectedError) as caught:
        composite_outcomes({"compositeResponse": [entry]}, parts)
    assert caught.value.vendor_message == "more than 25 operations"
    answered = {**entry, "referenceId": "a", "httpStatusCode": 404}
    [outcome] = composite_outcomes({"compositeResponse": [answered]}, parts).values()
    assert isinstance(outcome, CrmNotFoundError)
