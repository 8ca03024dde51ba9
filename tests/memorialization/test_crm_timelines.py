"""Memorialization end to end against every CRM adapter that has a simulator: mapped fields
(with a transcript cut to the real length of a case field) and one timeline activity per
target, also when a crash lost the record of the activity having been created.

The CRM harnesses come from the shared contract suite (``tests/crm/test_*_contract.py``);
CRMs whose contract module does not exist yet are left out of the parametrization.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import replace

import pytest
from sqlalchemy import update

from bot.memorialization import MemorializationWorker
from bot.memorialization.values import TRUNCATION_MARKER
from bot.storage.job_tables import MemorializationJobRow
from crm.mappings import MemorializationMapping
from crm.models import FieldType
from crm.registry import INTEGRATION_TYPES

from .conftest import make_snapshot
from .helpers import FAST, add_jobs, wait_settled


async def _transcript_field(harness):
    """The case type's long text field, or (where the CRM makes that read-only after
    create, as Zendesk and Oracle do) its first writable text field with a limit."""
    fields = [
        f
        for f in await harness.adapter.list_fields(harness.case_type)
        if f.updateable and f.max_length
    ]
    for kind in (FieldType.LONG_TEXT, FieldType.TEXT):
        for info in fields:
            if info.type == kind:
                return info
    raise AssertionError(f"{harness.case_type} has no writable text field with a limit")


@contextlib.asynccontextmanager
async def _running(sessions, adapter):
    async def provider(configuration_id):
        return adapter

    worker = MemorializationWorker(sessions, provider, replace(FAST, rate_per_second=200))
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def _run(sessions, adapter):
    async with _running(sessions, adapter):
        return await wait_settled(sessions)


async def _check_first_interaction(harness, rows, contact, case, long_field, transcript):
    """The first interaction's two jobs wrote what they should; their CRM calls."""
    adapter = harness.adapter
    assert [(row.status, row.last_error) for row in rows] == [("done", None)] * 2
    calls = [row.result["crmCalls"] for row in rows]
    if harness.write_requests is not None:  # None: the demo CRM, a database, not an HTTP API
        # each vendor's replies reach the worker (its quota headers with them): at least what
        # the contract counts for a first attempt's write, more where the job read metadata
        # first. One request where the vendor takes the values and the activity together
        # (Salesforce's Composite, Dataverse's $batch, the PATCH of an Oracle or ServiceNow
        # incident, a Zendesk ticket PUT with its comment)
        assert all(n >= least for n, least in zip(calls, harness.write_requests, strict=True)), (
            calls
        )
    assert (await adapter.get(contact.type, contact.id)).fields[
        harness.updatable_contact_field
    ] == "Support"
    written = (await adapter.get(case.type, case.id)).fields[long_field.name]
    assert written.endswith(TRUNCATION_MARKER) and len(written) == long_field.max_length
    assert rows[1].result["truncated"][0]["originalLength"] == len(transcript)
    for record in (contact, case):
        assert len(await harness.timeline_for(record.type, record.id)) == 1
    return calls


async def _memorialize_and_replay(harness, sqlite_sessions, record_property):
    adapter = harness.adapter
    contact = await adapter.create(harness.contact_type, harness.new_contact)
    case = await adapter.create(harness.case_type, harness.new_case)
    long_field = await _transcript_field(harness)
    mapping = MemorializationMapping(
        name="m",
        record_types=[
            {
                "recordType": harness.contact_type,
                "fields": [
                    {
                        "crmField": harness.updatable_contact_field,
                        "source": {"channel": "digital", "field": "Skill Name"},
                    }
                ],
            },
            {
                "recordType": harness.case_type,
                "fields": [
                    {
                        "crmField": long_field.name,
                        "source": {"channel": "digital", "field": "Transcription Text"},
                    }
                ],
            },
        ],
    )
    transcript = "Kunde: Der Drucker druckt leere Seiten. " * (long_field.max_length // 20 + 1)

    def interaction(interaction_id: str, skill: str):
        return make_snapshot(
            interaction_id,
            channel="digital",
            trigger="dismissed",
            targets=[(contact.type, contact.id), (case.type, case.id)],
            **{"Skill Name": skill, "Transcription Text": transcript},
        )

    async with _running(sqlite_sessions, adapter):
        await add_jobs(sqlite_sessions, interaction("int-1", "Support"), mapping=mapping)
        rows = await wait_settled(sqlite_sessions)
        calls = await _check_first_interaction(harness, rows, contact, case, long_field, transcript)
        record_property("crmCallsPerJob", f"{adapter.system.type}={calls[0]},{calls[1]}")
        # the next interaction with the same records, in the same worker: the CRM's
        # metadata is known by now, so this is what a job costs in the steady state
        await add_jobs(sqlite_sessions, interaction("int-2", "Billing"), mapping=mapping)
        rows = await wait_settled(sqlite_sessions)
    assert [(row.status, row.last_error) for row in rows] == [("done", None)] * 4
    warm = [row.result["crmCalls"] for row in rows[2:]]
    assert all(after <= before for after, before in zip(warm, calls, strict=True)), warm
    record_property("crmCallsPerJobWarm", f"{adapter.system.type}={warm[0]},{warm[1]}")
    assert (await adapter.get(contact.type, contact.id)).fields[
        harness.updatable_contact_field
    ] == "Billing"
    for record in (contact, case):
        assert len(await harness.timeline_for(record.type, record.id)) == 2

    # a crash right after the CRM created the activity, before the job recorded it
    async with sqlite_sessions() as session, session.begin():
        await session.execute(
            update(MemorializationJobRow).values(status="pending", timeline_id=None, attempts=0)
        )
    rows = await _run(sqlite_sessions, adapter)
    assert all(row.status == "done" and row.result["timeline"]["created"] is False for row in rows)
    for record in (contact, case):
        assert len(await harness.timeline_for(record.type, record.id)) == 2


class _MemorializationChecks:
    async def test_fields_and_one_timeline_activity_per_target(
        self, harness, sqlite_sessions, record_property
    ):
        """``crmCallsPerJob`` (a test property: ``--junitxml``) is what the two jobs cost the
        CRM's quota (bench/crm_calls_per_job.py tabulates it per vendor)."""
        await _memorialize_and_replay(harness, sqlite_sessions, record_property)


def _delegate(name: str):
    @pytest.fixture
    def harness(self, request):
        return request.getfixturevalue(name)

    return harness


_FIXTURE_TYPE = type(pytest.fixture(lambda: None))

# One test class per CRM with a contract module; its ``harness`` fixture is the contract's,
# whether that module defines it at module level or on its test class.
for _type in INTEGRATION_TYPES:
    try:
        _module = importlib.import_module(f"tests.crm.test_{_type}_contract")
    except ModuleNotFoundError:
        continue
    _contract = next(
        value
        for name, value in vars(_module).items()
        if name.startswith("Test") and isinstance(value, type)
    )
    # fixtures the harness needs (e.g. Dynamics' TLS files) come along under their names
    for _name, _value in vars(_module).items():
        if isinstance(_value, _FIXTURE_TYPE) and _name != "harness" and _name not in globals():
            globals()[_name] = _value
    if "harness" in vars(_contract):
        _fixture = vars(_contract)["harness"]
    else:
        globals()[f"{_type}_harness"] = _module.harness
        _fixture = _delegate(f"{_type}_harness")
    _name = f"Test{_contract.__name__.removeprefix('Test').removesuffix('Contract')}Memorialization"
    globals()[_name] = type(_name, (_MemorializationChecks,), {"harness": _fixture})
