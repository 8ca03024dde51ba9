"""HubSpot adapter against its simulator: auth, throttling, failures, paging, API versions,
phone verification, timeline, links and configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from crm.errors import (
    ConfigError,
    CrmAuthError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.models import (
    Condition,
    DynamicSearch,
    PhoneSearch,
    RecordWrite,
    TextSearch,
    TimelineActivity,
)
from crm.registry import AdapterContext, create_adapter

from .dataset import ANI_ONE_MATCH, FOREIGN_CALLERS, STORED_FORMS, national_form
from .sim_hubspot import PORTAL_ID, HubSpotSim, start_adapter


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def _anna(adapter):
    return (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]


async def test_every_call_carries_the_token_and_a_refused_token_is_an_auth_error(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    await _anna(adapter)
    sim.token = "pat-rotated"
    with pytest.raises(CrmAuthError) as caught:
        await _anna(adapter)
    error = caught.value
    assert error.vendor_status == 401 and "Authentication credentials" in error.vendor_message
    assert "pat-eu1-test" not in f"{error.detail} {error.vendor_message}"


@pytest.mark.parametrize(
    ("retry_after", "policy", "expected"),
    [
        ("3", "TEN_SECONDLY_ROLLING", 3.0),
        (None, "TEN_SECONDLY_ROLLING", 10.0),  # the rolling window from the interval header
        (None, "DAILY", None),
    ],
)
async def test_throttling_is_a_rate_limit_error_with_the_wait(
    aiohttp_server, http, retry_after, policy, expected
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    sim.throttle_next(retry_after=retry_after, policy=policy)
    with pytest.raises(CrmRateLimitedError) as caught:
        await _anna(adapter)
    assert caught.value.retry_after == expected and caught.value.retryable
    assert "RATE_LIMIT" not in caught.value.detail and caught.value.vendor_status == 429
    assert len(await adapter.search(PhoneSearch(number=ANI_ONE_MATCH))) == 1


async def test_server_errors_and_timeouts_are_unavailable(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, timeout_seconds=0.2)
    sim.fail_next(502)
    with pytest.raises(CrmUnavailableError) as caught:
        await _anna(adapter)
    assert caught.value.vendor_status == 502 and not caught.value.timed_out
    sim.stall_next(0.6)
    with pytest.raises(CrmUnavailableError) as caught:
        await _anna(adapter)
    assert caught.value.timed_out


async def test_search_follows_paging_after_to_the_limit(aiohttp_server, http):
    sim = HubSpotSim()
    for i in range(205):
        sim.insert("contacts", {"firstname": f"P{i}", "lastname": "Muster"})
    sim, adapter = await start_adapter(aiohttp_server, http, sim=sim)
    found = await adapter.search(TextSearch(text="Muster", limit=205))
    assert len(found) == 205 and len({r.id for r in found}) == 205
    bodies = [body for method, path, body in sim.requests if path.endswith("/search")]
    assert [b.get("after") for b in bodies] == [None, "200"]
    assert len(await adapter.search(TextSearch(text="Muster", limit=7))) == 7


async def test_dated_api_version_uses_the_dated_paths(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, api_version="2026-03")
    anna = await _anna(adapter)
    await adapter.get("contacts", anna.id)
    await adapter.related(anna)
    await adapter.list_fields("tickets")
    await adapter.check()
    paths = {path for _, path, _ in sim.requests}
    assert "/crm/objects/2026-03/contacts/search" in paths
    assert f"/crm/objects/2026-03/contacts/{anna.id}/associations/companies" in paths
    assert "/crm/properties/2026-03/tickets" in paths
    assert "/account-info/2026-03/details" in paths
    assert not any("/v3/" in p or "/v4/" in p for p in paths)


async def test_phone_search_drops_a_foreign_number_with_the_same_national_digits(
    aiohttp_server, http
):
    sim = HubSpotSim()
    sim.seed()
    sim.insert("contacts", {"firstname": "Franz", "lastname": "Huber", "phone": "+43 30 1234567"})
    sim, adapter = await start_adapter(aiohttp_server, http, sim=sim)
    found = await adapter.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert [r.title for r in found] == ["Anna Schmidt"]
    austrian = await adapter.search(PhoneSearch(number="+43301234567"))
    assert [r.title for r in austrian] == ["Franz Huber"]


async def test_company_phone_search_finds_every_stored_form(aiohttp_server, http):
    """Issue #14: companies have no calculated phone property, and the search used to send
    few text forms, so a company stored as "(0160) 5550108" or "+49 (0)160 ..." was missed."""
    sim = HubSpotSim()
    sim.seed()
    ids = {
        e164: sim.insert("companies", {"name": f"Firma {e164[-2:]}", "phone": stored})
        for stored, e164 in STORED_FORMS
    }
    sim, adapter = await start_adapter(aiohttp_server, http, sim=sim)
    missed = []
    for stored, e164 in STORED_FORMS:
        for ani in (e164, national_form(e164)):
            found = await adapter.search(PhoneSearch(number=ani, record_types=["companies"]))
            if [r.id for r in found] != [ids[e164]]:
                missed.append((stored, ani))
    assert missed == []
    for ani in FOREIGN_CALLERS:
        assert await adapter.search(PhoneSearch(number=ani, record_types=["companies"])) == []


async def test_dynamic_search_on_an_unknown_or_hostile_property_sends_no_search(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    for field in ("no_such_field", "email' OR '1'='1"):
        with pytest.raises(CrmRejectedError):
            await adapter.search(
                DynamicSearch(
                    record_type="contacts", conditions=[Condition(field=field, value="x")]
                )
            )
    assert not any(path.endswith("/search") for _, path, _ in sim.requests)


async def test_timeline_is_a_call_associated_with_the_record_and_escaped(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    activity = TimelineActivity(
        key="int-42:contacts:" + anna.id,
        record_type="contacts",
        record_id=anna.id,
        subject="Inbound call",
        direction="inbound",
        duration_seconds=93,
        notes="<b>Rechnung</b> & Mahnung",
        agent_name="Agent Smith",
        phone_number=ANI_ONE_MATCH,
    )
    ref = await adapter.add_timeline(activity)
    call = sim.objects["calls"][ref.id]["properties"]
    assert call["hs_call_external_id"] == activity.key
    assert call["hs_call_duration"] == "93000" and call["hs_call_direction"] == "INBOUND"
    assert "&lt;b&gt;Rechnung&lt;/b&gt; &amp; Mahnung" in call["hs_call_body"]
    assert call["hs_call_from_number"] == ANI_ONE_MATCH
    assert ("calls", ref.id, "contacts", anna.id, 194) in sim.links
    assert (await adapter.add_timeline(activity)).created is False
    ticket = next(iter(sim.objects["tickets"]))
    on_ticket = await adapter.add_timeline(
        activity.model_copy(
            update={"key": "int-42:tickets", "record_type": "tickets", "record_id": ticket}
        )
    )
    assert ("calls", on_ticket.id, "tickets", ticket, 220) in sim.links


def _job_write(record_id: str, fields: dict[str, str], *, may_exist: bool = False) -> RecordWrite:
    return RecordWrite(
        record_type="contacts",
        record_id=record_id,
        fields=fields,
        activity=TimelineActivity(
            key=f"int-7:contacts:{record_id}",
            record_type="contacts",
            record_id=record_id,
            subject="Inbound call",
        ),
        activity_may_exist=may_exist,
    )


async def test_write_record_patches_then_creates_the_call_with_its_association(
    aiohttp_server, http
):
    """A first attempt: the PATCH (not read back) and the call created with its association
    in the body; no search for the key. A retry searches first and creates nothing."""
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    sim.requests.clear()
    ref = await adapter.write_record(_job_write(anna.id, {"jobtitle": "Einkauf"}))
    assert [(method, path) for method, path, _ in sim.requests] == [
        ("PATCH", f"/crm/v3/objects/contacts/{anna.id}"),
        ("POST", "/crm/v3/objects/calls"),
    ]
    association = sim.requests[1][2]["associations"][0]
    assert association["to"] == {"id": anna.id}
    assert ref is not None and ("calls", ref.id, "contacts", anna.id, 194) in sim.links
    assert sim.objects["contacts"][anna.id]["properties"]["jobtitle"] == "Einkauf"
    sim.requests.clear()
    again = await adapter.write_record(_job_write(anna.id, {"jobtitle": "Einkauf"}, may_exist=True))
    assert again is not None and (again.id, again.created) == (ref.id, False)
    assert [path for _, path, _ in sim.requests] == [
        f"/crm/v3/objects/contacts/{anna.id}",
        "/crm/v3/objects/calls/search",
    ]


async def test_write_record_with_a_refused_value_names_the_property_and_links_nothing(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    calls_before = len(sim.objects["calls"])
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(_job_write(anna.id, {"lifecyclestage": "no-such-stage"}))
    assert caught.value.field == "lifecyclestage" and caught.value.vendor_status == 400
    assert "INVALID_OPTION" in (caught.value.vendor_message or "")
    assert len(sim.objects["calls"]) == calls_before


async def test_write_record_throttled_is_a_rate_limit_error_with_the_wait(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    sim.throttle_next(retry_after="4")
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_record(_job_write(anna.id, {"jobtitle": "Einkauf"}))
    assert caught.value.retry_after == 4.0 and caught.value.vendor_status == 429
    assert sim.objects["contacts"][anna.id]["properties"].get("jobtitle") != "Einkauf"
    assert sim.calls_for("contacts", anna.id) == []


async def test_related_contacts_share_the_company_and_see_tickets(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    assert {(r.type, r.title) for r in await adapter.related(anna)} == {
        ("companies", "Schmidt Logistik GmbH"),
        ("tickets", "Lieferung verspätet"),
    }
    lena = (await adapter.search(TextSearch(text="Lena Fischer")))[0]
    titles = {r.title for r in await adapter.related(lena)}
    assert titles == {"Fischer Haus", "Paul Fischer"}


async def test_record_url_points_at_the_portal(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    assert adapter.record_url("contacts", "501") == (
        f"https://app-eu1.hubspot.com/contacts/{PORTAL_ID}/record/0-1/501"
    )
    assert adapter.record_url("2-7001", "9").endswith("/record/2-7001/9")
    types = {t.name: t for t in await adapter.list_record_types()}
    assert types["2-7001"].label == "Vehicle" and not types["2-7001"].standard


async def test_check_refuses_a_token_of_another_account(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, account_id="999")
    with pytest.raises(CrmAuthError):
        await adapter.check()


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {"access_token": "t"}, "settings.account_id"),
        (
            {"account_id": "12", "api_version": "v3; drop"},
            {"access_token": "t"},
            "settings.api_version",
        ),
        ({"account_id": "12"}, {}, "access_token"),
    ],
)
async def test_configuration_errors_name_the_setting(http, settings, secrets, field):
    with pytest.raises(ConfigError) as caught:
        create_adapter(
            AdapterContext(
                configuration_id="c",
                type="hubspot",
                label="H",
                settings=settings,
                secrets=secrets,
                http=http,
            )
        )
    assert caught.value.field == field


async def test_the_check_reports_a_missing_timeline_key_property_before_any_write_back(
    aiohttp_server, http
):
    """An account whose calls lack ``hs_call_external_id`` hears so from the configuration
    test, not from every failed write-back."""
    sim = HubSpotSim()
    sim.seed()
    sim.missing_properties.add(("calls", "hs_call_external_id"))
    sim, adapter = await start_adapter(aiohttp_server, http, sim)
    warnings = await adapter.check()
    assert len(warnings) == 1 and "'hs_call_external_id'" in warnings[0]
    anna = await _anna(adapter)
    activity = TimelineActivity(
        key="int-1:contacts:x", record_type="contacts", record_id=anna.id, subject="Call"
    )
    with pytest.raises(CrmRejectedError):  # what every write-back would have said
        await adapter.add_timeline(activity)
    sim.missing_properties.clear()
    assert await adapter.check() == []
