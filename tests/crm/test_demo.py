"""Demo-CRM behaviour beyond the shared contract: the sample data, custom type, settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.storage.db import create_demo_crm_engine
from crm.demo import DemoCrm
from crm.errors import ConfigError, CrmNotFoundError, CrmRejectedError
from crm.models import (
    Condition,
    DynamicSearch,
    EmailSearch,
    PhoneSearch,
    TextSearch,
    TimelineActivity,
)
from crm.registry import AdapterContext, create_adapter


@pytest.fixture
def demo_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'demo-crm.db'}"


@pytest.fixture
async def demo(demo_url) -> AsyncIterator[DemoCrm]:
    adapter = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    yield adapter
    await adapter.aclose()


async def _titles(adapter: DemoCrm, query) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(f"{record.type}: {record.title}" for record in await adapter.search(query))


# --- the sample data (the table in docs/demo-crm.md) -------------------------------------

PHONE_TABLE = [
    ("+49 30 1234567", ["contact: Anna Schmidt"]),  # the README demo
    ("+49301234567", ["contact: Anna Schmidt"]),
    ("030 1234567", ["contact: Anna Schmidt"]),
    ("0049 30 1234567", ["contact: Anna Schmidt"]),
    ("+49 30 1234568", ["contact: Markus Berger"]),  # one digit off Anna: not Anna
    ("+49 40 5550190", ["contact: Klaus Wagner", "contact: Petra Wagner"]),  # household
    ("+49 89 5550402", ["contact: Stefan Huber"]),  # stored as "+49 (0)89 555 0402"
    ("+15550102233", ["contact: Maria O'Brien"]),
    ("+33 1 45 55 01 23", ["contact: Chloé Martin"]),
    ("+49 152 5550199", ["contact: Lukas Wagner"]),  # a mobile number
    ("+49 221 5550815", ["lead: Tobias Klein"]),
    ("+49 30 5550100", ["account: Schmidt Logistik GmbH"]),  # a switchboard
    ("+49 30 0000000", []),
    ("+44 20 7946 0000", []),
]


@pytest.mark.parametrize(("ani", "expected"), PHONE_TABLE)
async def test_sample_phone_numbers_find_the_documented_records(demo, ani, expected) -> None:
    assert await _titles(demo, PhoneSearch(number=ani)) == expected


async def test_shared_email_finds_the_household(demo) -> None:
    found = await _titles(demo, EmailSearch(email="Familie.Wagner@Example.NET"))
    assert found == ["contact: Klaus Wagner", "contact: Petra Wagner"]
    assert await _titles(demo, EmailSearch(email="chloe.martin@example.fr")) == [
        "contact: Chloé Martin"
    ]
    assert await _titles(demo, EmailSearch(email="anna.schmidt@schmidt-logistik.example")) == [
        "contact: Anna Schmidt"
    ]
    assert await _titles(demo, EmailSearch(email="nobody@example.org")) == []


async def test_text_search_covers_names_accounts_and_full_names(demo) -> None:
    assert await _titles(demo, TextSearch(text="wagner")) == [
        "account: Familie Wagner",
        "contact: Klaus Wagner",
        "contact: Lukas Wagner",
        "contact: Petra Wagner",
    ]
    assert await _titles(demo, TextSearch(text="Anna Schmidt")) == ["contact: Anna Schmidt"]
    assert await _titles(demo, TextSearch(text="Umspannwerk")) == ["case: Störung Umspannwerk Nord"]


@pytest.mark.parametrize("text", ["%", "_", "Wag_er", "Wag%er", "\\", "   "])
async def test_text_search_treats_wildcards_as_text(demo, text) -> None:
    assert await demo.search(TextSearch(text=text)) == []


async def test_search_limit_spans_record_types(demo) -> None:
    found = await demo.search(TextSearch(text="wagner", limit=2))
    assert [record.title for record in found] == ["Klaus Wagner", "Lukas Wagner"]


async def test_sample_data_is_seeded_once(demo_url, demo) -> None:
    before = await demo.search(TextSearch(text="Schmidt", record_types=["contact"]))
    await demo.aclose()
    again = DemoCrm(demo_url, open_engine=create_demo_crm_engine)
    try:
        after = await again.search(TextSearch(text="Schmidt", record_types=["contact"]))
    finally:
        await again.aclose()
    assert [r.id for r in after] == [r.id for r in before] and len(after) == 1


async def test_empty_seed_starts_without_records(demo_url) -> None:
    adapter = DemoCrm(demo_url, seed="empty", open_engine=create_demo_crm_engine)
    try:
        assert await adapter.search(PhoneSearch(number="+49 30 1234567")) == []
        assert await adapter.search(TextSearch(text="a", limit=100)) == []
    finally:
        await adapter.aclose()


async def test_sample_works_on_sqlite_and_postgresql(database_url) -> None:
    adapter = DemoCrm(database_url, open_engine=create_demo_crm_engine)
    try:
        [anna] = await adapter.search(PhoneSearch(number="+49301234567"))
        ref = await adapter.add_timeline(
            TimelineActivity(
                key="int-1:contact:x", record_type="contact", record_id=anna.id, subject="Call"
            )
        )
        again = await adapter.add_timeline(
            TimelineActivity(
                key="int-1:contact:x", record_type="contact", record_id=anna.id, subject="Call"
            )
        )
        assert ref.created and not again.created and again.id == ref.id
        assert len(await adapter.search(TextSearch(text="Wagner"))) == 4
    finally:
        await adapter.aclose()


# --- related records ---------------------------------------------------------------------


async def test_related_of_a_contact_shows_account_colleagues_open_cases(demo) -> None:
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    related = sorted(f"{r.type}: {r.title}" for r in await demo.related(anna))
    assert related == [
        "account: Schmidt Logistik GmbH",
        "case: Lieferung verspätet – Sendung 4711",
        "case: Retoure Palettenregal",  # a colleague's open case at the same account
        "contact: Markus Berger",
        "custom_subscription: Premium Support 24/7",
    ]  # the closed case "Rechnung März doppelt gebucht" is not listed


async def test_related_of_a_case_shows_its_contact_and_account(demo) -> None:
    [case] = await demo.search(TextSearch(text="Tarifwechsel", record_types=["case"]))
    related = [f"{r.type}: {r.title}" for r in await demo.related(case, limit=2)]
    assert related == ["account: Familie Wagner", "contact: Petra Wagner"]
    assert case.parent_ids["contact"] and case.parent_ids["account"]


# --- custom type and validation ----------------------------------------------------------


async def test_custom_type_is_listed_with_custom_fields(demo) -> None:
    types = {t.name: t for t in await demo.list_record_types()}
    assert types["custom_subscription"].standard is False
    assert types["contact"].standard is True and types["task"].supports_timeline is False
    fields = await demo.list_fields("custom_subscription")
    assert fields and all(f.custom for f in fields)
    assert not any(f.custom for f in await demo.list_fields("contact"))


async def test_custom_record_round_trips_typed_values(demo) -> None:
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    created = await demo.create(
        "custom_subscription",
        {
            "name": "Express Versand",
            "plan": "Plus",
            "monthly_fee": "129.5",
            "start_date": "2026-01-01",
            "auto_renew": "true",
            "contact_id": anna.id,
        },
    )
    got = await demo.get("custom_subscription", created.id)
    assert got.fields["monthly_fee"] == 129.5 and got.fields["auto_renew"] is True
    assert got.fields["status"] == "Active"  # the type's default
    assert got.url == f"http://localhost:3978/demo-crm/custom_subscription/{created.id}"


@pytest.mark.parametrize(
    ("record_type", "fields", "field"),
    [
        ("contact", {"last_name": "x" * 81}, "last_name"),
        ("contact", {"last_name": "Neu", "shoe_size": "42"}, "shoe_size"),
        ("contact", {"last_name": "Neu", "account_id": "acc-doesnotexist"}, "account_id"),
        ("contact", {"last_name": "Neu", "preferred_language": "fr"}, "preferred_language"),
        ("case", {"subject": "S", "case_number": "1"}, "case_number"),
        ("lead", {"last_name": "Neu"}, "company"),
        ("custom_subscription", {"name": "N", "monthly_fee": "a lot"}, "monthly_fee"),
        ("custom_subscription", {"name": "N", "start_date": "31.12.2026"}, "start_date"),
    ],
)
async def test_create_names_the_invalid_field(demo, record_type, fields, field) -> None:
    with pytest.raises(CrmRejectedError) as caught:
        await demo.create(record_type, fields)
    assert caught.value.field == field


async def test_update_refuses_to_blank_a_required_field(demo) -> None:
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    with pytest.raises(CrmRejectedError) as caught:
        await demo.update("contact", anna.id, {"last_name": " "})
    assert caught.value.field == "last_name"


async def test_updated_phone_number_is_found_by_phone(demo) -> None:
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    await demo.update("contact", anna.id, {"phone": "(0221) 555-77 88"})
    assert await demo.search(PhoneSearch(number="+49 30 1234567")) == []
    [found] = await demo.search(PhoneSearch(number="+492215557788"))
    assert found.id == anna.id


async def test_dynamic_search_rejects_unknown_fields_by_name(demo) -> None:
    query = DynamicSearch(
        record_type="contact", conditions=[Condition(field="last_name); DROP", value="x")]
    )
    with pytest.raises(CrmRejectedError) as caught:
        await demo.search(query)
    assert caught.value.field == "last_name); DROP"
    with pytest.raises(CrmRejectedError):
        await demo.search(DynamicSearch(record_type="contact", conditions=[]))


async def test_dynamic_search_on_a_picklist_and_a_reference(demo) -> None:
    [account] = await demo.search(TextSearch(text="Nordlicht", record_types=["account"]))
    found = await demo.search(
        DynamicSearch(
            record_type="contact",
            conditions=[
                Condition(field="account_id", value=account.id),
                Condition(field="preferred_language", value="DE"),
            ],
        )
    )
    assert sorted(r.title for r in found) == ["Ingrid Hansen", "Mehmet Yilmaz"]


# --- timeline ----------------------------------------------------------------------------


async def test_timeline_task_carries_the_call(demo) -> None:
    [anna] = await demo.search(PhoneSearch(number="+49 30 1234567"))
    ref = await demo.add_timeline(
        TimelineActivity(
            key="int-9:contact:" + anna.id,
            record_type="contact",
            record_id=anna.id,
            subject="Inbound call",
            direction="inbound",
            duration_seconds=125,
            disposition="Callback promised",
            notes="Wants delivery on Friday.",
            agent_name="Agent Smith",
            phone_number="+49301234567",
        )
    )
    [task] = [t for t in await demo.timeline("contact", anna.id) if t.id == ref.id]
    assert task.fields["call_duration_seconds"] == 125
    assert task.fields["call_direction"] == "inbound" and task.fields["status"] == "Completed"
    assert "Wants delivery on Friday." in str(task.fields["description"])
    assert task.parent_ids == {"contact": anna.id}


async def test_timeline_needs_an_existing_linkable_record(demo) -> None:
    with pytest.raises(CrmNotFoundError):
        await demo.add_timeline(
            TimelineActivity(
                key="k1", record_type="contact", record_id="con-000000000000", subject="x"
            )
        )
    [task] = await demo.search(TextSearch(text="Intro call", record_types=["task"]))
    with pytest.raises(CrmRejectedError):
        await demo.add_timeline(
            TimelineActivity(key="k2", record_type="task", record_id=task.id, subject="x")
        )


# --- registry and settings ---------------------------------------------------------------


async def test_registry_builds_the_demo_from_a_configuration(demo_url) -> None:
    async with httpx.AsyncClient() as http:
        adapter = create_adapter(
            AdapterContext(
                configuration_id="cfg-1",
                type="demo",
                label="Showroom CRM",
                settings={"base_url": "https://cards.example.com/demo-crm/", "seed": "sample"},
                secrets={},
                http=http,
                extra={"demo_crm_url": demo_url},
            )
        )
        try:
            assert isinstance(adapter, DemoCrm)
            assert adapter.system.label == "Showroom CRM"
            [anna] = await adapter.search(PhoneSearch(number="+49 30 1234567"))
            assert anna.url == f"https://cards.example.com/demo-crm/contact/{anna.id}"
            await adapter.check()
        finally:
            await adapter.aclose()


@pytest.mark.parametrize("settings", [{"seed": "lots"}, {"latency_ms": "slow"}, {"latency_ms": -5}])
async def test_invalid_settings_are_configuration_errors(demo_url, settings) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ConfigError):
            create_adapter(
                AdapterContext(
                    configuration_id="cfg-1",
                    type="demo",
                    label="Demo",
                    settings=settings,
                    secrets={},
                    http=http,
                    extra={"demo_crm_url": demo_url},
                )
            )


async def test_latency_setting_delays_every_call(demo_url) -> None:
    slow = DemoCrm(demo_url, latency_ms=60_000, open_engine=create_demo_crm_engine)
    try:
        # a minute of latency cannot finish within a tenth of a second
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow.list_record_types(), timeout=0.1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow.search(TextSearch(text="Anna")), timeout=0.1)
    finally:
        await slow.aclose()
    fast = DemoCrm(demo_url, latency_ms=0, open_engine=create_demo_crm_engine)
    try:
        assert await asyncio.wait_for(fast.list_record_types(), timeout=30)
    finally:
        await fast.aclose()


# --- references carry the referenced record's name ----------------------------------------


async def test_reference_fields_come_with_the_names_and_links_of_their_records(demo):
    (anna,) = await demo.search(PhoneSearch(number="+49 30 1234567"))
    account = anna.references["account_id"]
    assert (account.type, account.name) == ("account", "Schmidt Logistik GmbH")
    assert account.id == anna.fields["account_id"] == anna.parent_ids["account"]
    assert account.url == demo.record_url("account", account.id)
    assert (await demo.get("contact", anna.id)).references == anna.references

    related = await demo.related(anna)
    cases = [r for r in related if r.type == "case"]
    people = {r.id: r.title for r in [anna, *related] if r.type == "contact"}
    assert {c.references["contact_id"].name for c in cases} == {"Anna Schmidt", "Markus Berger"}
    assert all(c.references["contact_id"].name == people[c.fields["contact_id"]] for c in cases)
    subscription = next(r for r in related if r.type == "custom_subscription")
    assert subscription.references["account_id"].name == "Schmidt Logistik GmbH"
    assert next(r for r in related if r.type == "account").references == {}  # refers to nothing


async def test_a_task_names_the_record_it_is_related_to(demo):
    (anna,) = await demo.search(PhoneSearch(number="+49 30 1234567"))
    activity = TimelineActivity(
        key="ix-1:contact:" + anna.id, record_type="contact", record_id=anna.id, subject="Call"
    )
    await demo.add_timeline(activity)
    (task,) = [t for t in await demo.timeline("contact", anna.id) if t.title == "Call"]
    assert task.references["related_id"].name == "Anna Schmidt"
    assert task.references["related_id"].type == "contact"
