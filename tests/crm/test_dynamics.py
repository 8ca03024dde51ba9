"""The Dynamics 365 / Dataverse adapter against the local simulator over TLS (MSAL needs
https), real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.adapters.dynamics.batch import BatchOperation, build_batch, parse_batch
from crm.adapters.dynamics.wire import created_id
from crm.errors import (
    ConfigError,
    CrmAuthError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.http import Quota, observing_responses
from crm.models import (
    Condition,
    DynamicSearch,
    EmailSearch,
    FieldType,
    IdSearch,
    PhoneSearch,
    RecordWrite,
    TextSearch,
    TimelineActivity,
)
from crm.protocol import CrmAdapter
from crm.registry import create_adapter
from tests.crm.dataset import ANI_NO_MATCH, ANI_ONE_MATCH, ANI_TWO_MATCHES, HOSTILE_INPUTS
from tests.crm.sim_dynamics import DataverseSim, adapter_context, tls_files


class Env:
    def __init__(self, sim: DataverseSim, base: str, http: httpx.AsyncClient, ca: Path) -> None:
        self.sim, self.base, self.http, self.ca = sim, base, http, ca
        self.adapters: list[Any] = []

    def adapter(self, **settings: Any) -> Any:
        adapter = create_adapter(
            adapter_context(self.sim, self.base, self.http, self.ca, **settings)
        )
        self.adapters.append(adapter)
        return adapter


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    return tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def env(aiohttp_server, tls) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    ca, cert, key = tls
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sim = DataverseSim()
    server = await aiohttp_server(sim.app, ssl=server_ctx)
    client_ctx = ssl.create_default_context(cafile=str(ca))
    async with httpx.AsyncClient(timeout=3.0, verify=client_ctx) as http:
        environment = Env(sim, str(server.make_url("")).rstrip("/"), http, ca)
        yield environment
        for adapter in environment.adapters:
            await adapter.aclose()


@pytest.fixture
def dv(env: Env) -> Any:
    return env.adapter()


def _contact(sim: DataverseSim, last_name: str) -> dict[str, Any]:
    return next(r for r in sim.records["contact"].values() if r["lastname"] == last_name)


async def test_registered_and_implements_the_protocol(env: Env, dv: Any) -> None:
    assert isinstance(dv, CrmAdapter)
    assert dv.system.type == "dynamics" and dv.system.base_url == env.base


async def test_msal_discovers_the_authority_and_asks_for_the_scope(env: Env, dv: Any) -> None:
    await dv.check()
    assert env.sim.discovery_calls == 1
    assert env.sim.token_scopes == ["https://contoso.crm4.dynamics.com/.default"]


async def test_phone_search_finds_every_stored_form(env: Env, dv: Any) -> None:
    [anna] = await dv.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert anna.title == "Anna Schmidt" and anna.type == "contact"
    two = await dv.search(PhoneSearch(number=ANI_TWO_MATCHES))
    assert sorted(r.title for r in two) == ["Lena Fischer", "Paul Fischer"]
    [jonas] = await dv.search(PhoneSearch(number="+49 30 9876543"))
    assert jonas.title == "Jonas Weber"  # stored as "(030) 98765-43"
    [maria] = await dv.search(PhoneSearch(number="+15550102233"))
    assert maria.title == "Maria O'Brien"
    [mobile] = await dv.search(PhoneSearch(number="0171 2345678"))
    assert mobile.title == "Anna Schmidt"
    assert await dv.search(PhoneSearch(number=ANI_NO_MATCH)) == []
    filters = [q for _, p, q in env.sim.requests if p.endswith("/contacts")]
    assert filters and all("telephone1" in q and "mobilephone" in q for q in filters)


async def test_phone_search_drops_rows_that_only_share_digits(env: Env, dv: Any) -> None:
    env.sim.insert("contact", {"lastname": "Longer", "telephone1": "+49 30 12345678"})
    env.sim.insert("contact", {"lastname": "Scrambled", "telephone1": "3 0 1 2 3 4 5 6 7 9"})
    [anna] = await dv.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert anna.title == "Anna Schmidt"


async def test_plus_in_an_email_is_sent_encoded(env: Env, dv: Any) -> None:
    env.sim.insert("contact", {"lastname": "Plus", "emailaddress1": "first+tag@example.de"})
    [found] = await dv.search(EmailSearch(email="first+tag@example.de"))
    assert found.title == "Plus"


async def test_email_text_id_and_dynamic_search(env: Env, dv: Any) -> None:
    [maria] = await dv.search(EmailSearch(email="Maria.OBrien@EXAMPLE.com"))
    assert maria.title == "Maria O'Brien"
    assert [r.title for r in await dv.search(TextSearch(text="o'brien"))] == ["Maria O'Brien"]
    assert len(await dv.search(TextSearch(text="Fischer"))) == 2
    assert [r.id for r in await dv.search(IdSearch(record_type="contact", id=maria.id))] == [
        maria.id
    ]
    assert (
        await dv.search(IdSearch(record_type="contact", id="00000000-0000-0000-0000-000000000000"))
        == []
    )
    assert await dv.search(IdSearch(record_type="contact", id="x) or (1 eq 1")) == []
    dyn = await dv.search(
        DynamicSearch(
            record_type="contact",
            conditions=[
                Condition(field="lastname", value="Fischer"),
                Condition(field="firstname", operator="notequals", value="Lena"),
            ],
        )
    )
    assert [r.title for r in dyn] == ["Paul Fischer"]


@pytest.mark.parametrize("hostile", HOSTILE_INPUTS + ["%", "_", "[a-z]%"])
async def test_hostile_input_matches_nothing(dv: Any, hostile: str) -> None:
    assert await dv.search(TextSearch(text=hostile)) == []
    assert await dv.search(EmailSearch(email=hostile)) == []
    assert await dv.search(PhoneSearch(number=hostile)) == []
    assert (
        await dv.search(
            DynamicSearch(
                record_type="contact", conditions=[Condition(field="lastname", value=hostile)]
            )
        )
        == []
    )


async def test_unknown_column_is_rejected_with_the_vendor_message(dv: Any) -> None:
    with pytest.raises(CrmRejectedError) as caught:
        await dv.search(
            DynamicSearch(
                record_type="contact", conditions=[Condition(field="new_nothing", value="x")]
            )
        )
    assert caught.value.field == "new_nothing"
    assert "Could not find a property" in (caught.value.vendor_message or "")


async def test_records_carry_parent_ids_links_and_times(env: Env, dv: Any) -> None:
    [anna] = await dv.search(EmailSearch(email="anna.schmidt@example.de"))
    account = next(
        r for r in env.sim.records["account"].values() if r["name"] == "Schmidt Logistik GmbH"
    )
    assert anna.parent_ids == {"account": account["accountid"]}
    assert anna.url == (f"{env.base}/main.aspx?pagetype=entityrecord&etn=contact&id={anna.id}")
    assert anna.updated_at is not None
    assert "_parentcustomerid_value" in anna.fields
    assert not any("@" in key for key in anna.fields)


async def test_create_update_get(env: Env, dv: Any) -> None:
    account = next(iter(env.sim.records["account"].values()))
    created = await dv.create(
        "contact",
        {
            "firstname": "Nina",
            "lastname": "Neu",
            "telephone1": "+49 40 1112223",
            "parentcustomerid_account@odata.bind": f"/accounts({account['accountid']})",
        },
    )
    assert created.title == "Nina Neu"
    assert created.parent_ids == {"account": account["accountid"]}
    updated = await dv.update("contact", created.id, {"jobtitle": "Buyer"})
    assert updated.fields["jobtitle"] == "Buyer"
    assert env.sim.records["contact"][created.id]["jobtitle"] == "Buyer"
    assert (await dv.get("contact", created.id)).fields["jobtitle"] == "Buyer"
    with pytest.raises(CrmNotFoundError):
        await dv.update("contact", "00000000-0000-0000-0000-000000000000", {"jobtitle": "x"})
    patches = [p for m, p, _ in env.sim.requests if m == "PATCH"]
    assert patches[0] == f"/api/data/v9.2/contacts({created.id})"


async def test_business_required_and_too_long_are_rejected(env: Env, dv: Any) -> None:
    sent = len(env.sim.requests)
    with pytest.raises(CrmRejectedError) as caught:
        await dv.create("contact", {"firstname": "NoLast"})
    assert caught.value.field == "lastname"
    assert not any(m == "POST" for m, _, _ in env.sim.requests[sent:])
    with pytest.raises(CrmRejectedError) as too_long:
        await dv.create("contact", {"lastname": "x", "jobtitle": "y" * 101})
    assert too_long.value.field == "jobtitle" and too_long.value.vendor_status == 400


async def test_case_needs_a_customer_when_the_org_says_so(env: Env, dv: Any) -> None:
    env.sim.require_case_customer = True
    with pytest.raises(CrmRejectedError, match="parent contact or account"):
        await dv.create("incident", {"title": "No customer"})
    anna = _contact(env.sim, "Schmidt")
    case = await dv.create(
        "incident",
        {"title": "Call back", "customerid_contact@odata.bind": f"/contacts({anna['contactid']})"},
    )
    assert case.parent_ids == {"contact": anna["contactid"]}


async def test_custom_table_is_resolved_through_metadata(env: Env, dv: Any) -> None:
    project = await dv.create("new_project", {"new_name": "Rollout", "new_status": "Open"})
    assert project.title == "Rollout"
    assert any("EntityDefinitions(LogicalName='new_project')" in p for _, p, _ in env.sim.requests)
    with pytest.raises(CrmNotFoundError):
        await dv.list_fields("new_nothing")


async def test_related_contacts_and_cases(env: Env, dv: Any) -> None:
    lena = await dv.get("contact", _contact(env.sim, "Fischer")["contactid"])
    assert [r.title for r in await dv.related(lena)] == ["Paul Fischer"]
    anna = await dv.get("contact", _contact(env.sim, "Schmidt")["contactid"])
    [case] = await dv.related(anna)
    assert (case.type, case.title) == ("incident", "Delivery delayed")
    assert [r.title for r in await dv.related(case)] == ["Anna Schmidt"]


async def test_timeline_phonecall_with_description_marker(env: Env, dv: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    activity = TimelineActivity(
        key="int-7:contact:" + anna["contactid"],
        record_type="contact",
        record_id=anna["contactid"],
        subject="Inbound call",
        direction="inbound",
        duration_seconds=61,
        started_at=datetime(2026, 5, 1, 10, tzinfo=UTC),
        notes="n" * 5000,
        phone_number="+49301234567",
    )
    first = await dv.add_timeline(activity)
    again = await dv.add_timeline(activity)
    assert first.created and not again.created and first.id == again.id
    assert first.type == "phonecall"
    [call] = env.sim.records["phonecall"].values()
    assert call["_regardingobjectid_value"] == anna["contactid"]
    assert call["directioncode"] is False and call["actualdurationminutes"] == 2
    assert len(call["description"]) <= 2000
    assert call["description"].endswith(f"[customer-card:{activity.key}]")
    # a key that is a prefix of another key is a different activity
    longer = activity.model_copy(update={"key": activity.key + "0"})
    assert (await dv.add_timeline(longer)).created


async def test_timeline_task_with_a_key_column(env: Env) -> None:
    dv = env.adapter(timeline_activity="task", timeline_key_field="new_interactionkey")
    case = next(iter(env.sim.records["incident"].values()))
    activity = TimelineActivity(
        key="k-1",
        record_type="incident",
        record_id=case["incidentid"],
        subject="Follow-up",
        notes="Short note",
    )
    first = await dv.add_timeline(activity)
    assert first.type == "task" and not (await dv.add_timeline(activity)).created
    task = env.sim.records["task"][first.id]
    assert task["new_interactionkey"] == "k-1" and task["description"] == "Short note"
    assert task["_regardingobjectid_value"] == case["incidentid"]


async def test_metadata_maps_types_and_lengths(dv: Any) -> None:
    types = {t.name: t for t in await dv.list_record_types()}
    assert {"contact", "incident", "new_project"} <= set(types)
    assert "contactleads" not in types
    assert types["new_project"].standard is False and types["contact"].supports_timeline
    fields = {f.name: f for f in await dv.list_fields("contact")}
    assert fields["telephone1"].type == FieldType.PHONE and fields["telephone1"].max_length == 50
    assert fields["emailaddress1"].type == FieldType.EMAIL
    assert fields["description"].type == FieldType.LONG_TEXT
    assert fields["new_callnotes"].max_length == 100000 and fields["new_callnotes"].custom
    assert fields["lastname"].required and not fields["ownerid"].required
    assert fields["fullname"].createable is False
    assert fields["parentcustomerid"].type == FieldType.REFERENCE
    assert fields["preferredcontactmethodcode"].options == ["Any", "Email", "Phone"]
    assert fields["lastname"].label == "Last Name"


# --- tokens, throttling, failures -----------------------------------------------------


async def test_one_token_for_many_calls(env: Env, dv: Any) -> None:
    for _ in range(5):
        await dv.search(EmailSearch(email="anna.schmidt@example.de"))
    await dv.check()
    assert env.sim.tokens_issued == 1


async def test_expired_token_is_refreshed_once_and_retried(env: Env, dv: Any) -> None:
    await dv.check()
    env.sim.expire_tokens()
    assert await dv.search(EmailSearch(email="anna.schmidt@example.de"))
    assert env.sim.tokens_issued == 2


async def test_wrong_secret_is_an_auth_error_without_the_secret(env: Env) -> None:
    dv = env.adapter(client_secret="a-wrong-secret")
    with pytest.raises(CrmAuthError) as caught:
        await dv.check()
    assert "invalid_client" in caught.value.detail
    assert "AADSTS7000215" in (caught.value.vendor_message or "")
    assert "a-wrong-secret" not in repr(caught.value.__dict__) + str(caught.value)


async def test_unknown_tenant_is_an_auth_error(env: Env) -> None:
    dv = env.adapter(authority=f"{env.base}/00000000-0000-0000-0000-000000000000")
    with pytest.raises(CrmAuthError):
        await dv.check()


async def test_token_url_fallback_uses_a_plain_form_post(env: Env) -> None:
    dv = env.adapter(token_url=f"{env.base}/{env.sim.tenant_id}/oauth2/v2.0/token")
    await dv.check()
    assert env.sim.tokens_issued == 1 and env.sim.discovery_calls == 0
    env.sim.expire_tokens()
    await dv.check()
    assert env.sim.tokens_issued == 2


async def test_token_is_refreshed_ahead_of_expiry_in_the_background(env: Env) -> None:
    env.sim.expires_in = 302  # the manager refreshes 300 s ahead: about 2 s from now
    dv = env.adapter(token_url=f"{env.base}/{env.sim.tenant_id}/oauth2/v2.0/token")
    await dv.check()
    env.sim.expires_in = 3599
    for _ in range(60):  # bounded wait: the refresher runs on its own
        if env.sim.tokens_issued >= 2:
            break
        await asyncio.sleep(0.1)
    assert env.sim.tokens_issued == 2
    await dv.check()  # served from the refreshed token: no mint while an agent waits
    assert env.sim.tokens_issued == 2


async def test_429_is_rate_limited_with_retry_after(env: Env, dv: Any) -> None:
    env.sim.throttle_next = 1
    with pytest.raises(CrmRateLimitedError) as caught:
        await dv.search(EmailSearch(email="anna.schmidt@example.de"))
    assert caught.value.retry_after == 7 and caught.value.retryable
    assert "6000" in (caught.value.vendor_message or "")


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_unavailable(env: Env, dv: Any, status: int) -> None:
    env.sim.fail_next = [status]
    with pytest.raises(CrmUnavailableError) as caught:
        await dv.get("contact", _contact(env.sim, "Schmidt")["contactid"])
    assert caught.value.vendor_status == status


async def test_timeout_is_unavailable_and_flagged(env: Env) -> None:
    ctx = ssl.create_default_context(cafile=str(env.ca))
    async with httpx.AsyncClient(timeout=0.3, verify=ctx) as http:
        dv = create_adapter(adapter_context(env.sim, env.base, http, env.ca))
        try:
            await dv.check()
            env.sim.delay = 1.0
            with pytest.raises(CrmUnavailableError) as caught:
                await dv.check()
            assert caught.value.timed_out
        finally:
            env.sim.delay = 0
            await dv.aclose()


async def test_unreachable_authority_is_unavailable(env: Env) -> None:
    dv = env.adapter(authority="https://127.0.0.1:9/tenant")
    with pytest.raises(CrmUnavailableError):
        await dv.check()


async def test_paging_follows_next_link(env: Env) -> None:
    dv = env.adapter(page_size=2)
    for n in range(7):
        env.sim.insert("contact", {"lastname": "Pager", "firstname": f"P{n}"})
    assert len(await dv.search(TextSearch(text="Pager", limit=5))) == 5
    assert len(await dv.search(TextSearch(text="Pager", limit=25))) == 7
    assert any("$skiptoken" in q for _, _, q in env.sim.requests)


async def test_api_version_and_base_are_configurable(env: Env) -> None:
    dv = env.adapter(api_version="9.1")
    await dv.check()
    assert "/api/data/v9.1/WhoAmI" in [path for _, path, _ in env.sim.requests]
    moved = env.adapter(api_base=f"{env.base}/api/data/v9.0")
    await moved.check()
    assert env.sim.requests[-1][1].startswith("/api/data/v9.0/EntityDefinitions")
    assert "/api/data/v9.0/WhoAmI" in [path for _, path, _ in env.sim.requests]


def test_settings_are_checked(tmp_path: Path) -> None:
    sim = DataverseSim()
    with pytest.raises(ConfigError) as caught:
        create_adapter(adapter_context(sim, "", None, tmp_path))
    assert caught.value.field == "settings.org_url"
    with pytest.raises(ConfigError):
        create_adapter(adapter_context(sim, "https://x", None, tmp_path, timeline_activity="email"))
    with pytest.raises(ConfigError):
        create_adapter(
            adapter_context(sim, "https://x", None, tmp_path, caller_record_types=["Contact"])
        )


def test_record_url_with_app_id(tmp_path: Path) -> None:
    dv = create_adapter(
        adapter_context(
            DataverseSim(), "https://contoso.crm4.dynamics.com", None, tmp_path, app_id="abc"
        )
    )
    assert dv.record_url("contact", "1") == (
        "https://contoso.crm4.dynamics.com/main.aspx?"
        "pagetype=entityrecord&etn=contact&id=1&appid=abc"
    )


async def test_a_token_request_still_running_at_close_opens_no_new_session(env: Env) -> None:
    """MSAL runs in a worker thread, which a cancelled await does not stop: if it gets to
    its HTTP session only after aclose(), it must not open one (its socket would never be
    closed)."""
    dv = env.adapter()
    await dv.check()  # a token minted: MSAL and its session exist
    await dv.aclose()
    with pytest.raises(CrmUnavailableError):
        await asyncio.to_thread(dv._acquire_with_msal)  # the late thread
    assert dv._msal_session is None


async def test_an_org_without_the_lead_table_still_finds_callers_and_the_check_says_so(
    env: Env,
) -> None:
    """Without the Sales app there is no ``lead`` table: the default caller search (contact,
    lead) skips it instead of failing whole, and the configuration test names it."""
    env.sim.missing.add("lead")
    dv = env.adapter()
    found = await dv.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert [record.title for record in found] == ["Anna Schmidt"]
    found = await dv.search(TextSearch(text="Fischer", record_types=["lead", "contact"]))
    assert len(found) == 2
    warnings = await dv.check()
    assert len(warnings) == 1 and warnings[0].startswith("caller_record_types:")
    assert "'lead'" in warnings[0]
    assert await env.adapter(caller_record_types=["contact"]).check() == []


async def test_a_search_only_over_tables_the_org_lacks_is_an_error(env: Env) -> None:
    env.sim.missing.add("lead")
    with pytest.raises(CrmNotFoundError):
        await env.adapter().search(PhoneSearch(number=ANI_ONE_MATCH, record_types=["lead"]))


# --- a memorialization job's write: one $batch ------------------------------------------


def _call(contact: dict[str, Any], key: str, notes: str = "Asked about the invoice.") -> Any:
    return TimelineActivity(
        key=key,
        record_type="contact",
        record_id=contact["contactid"],
        subject="Inbound call",
        direction="inbound",
        notes=notes,
    )


def _calls_about(sim: DataverseSim, contact: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.records["phonecall"].values()
        if r["_regardingobjectid_value"] == contact["contactid"]
    ]


async def _warm(dv: Any) -> None:
    await dv.list_fields("contact")  # metadata read: only the write's requests are counted


async def test_write_record_sends_the_values_and_the_activity_in_one_batch(
    env: Env, dv: Any
) -> None:
    anna = _contact(env.sim, "Schmidt")
    await _warm(dv)
    sent = len(env.sim.requests)
    replies: list[Quota | None] = []
    with observing_responses(replies.append):
        ref = await dv.write_record(
            RecordWrite(
                record_type="contact",
                record_id=anna["contactid"],
                fields={"jobtitle": "Buyer"},
                activity=_call(anna, "b-1"),
                activity_may_exist=False,
            )
        )
    assert [(m, p) for m, p, _ in env.sim.requests[sent:]] == [("POST", "/api/data/v9.2/$batch")]
    assert env.sim.batch_parts == [
        ("PATCH", f"/api/data/v9.2/contacts({anna['contactid']})"),
        ("POST", "/api/data/v9.2/phonecalls"),
    ]
    [call] = _calls_about(env.sim, anna)
    assert ref is not None and (ref.id, ref.type, ref.created) == (
        call["activityid"],
        "phonecall",
        True,
    )
    assert anna["jobtitle"] == "Buyer"
    # the outer reply is observed once, with the service protection header; parts are not
    [quota] = replies
    assert quota is not None and quota.remaining == env.sim.burst_limit - len(env.sim.requests)


async def test_write_record_of_a_rejected_value_names_the_field(env: Env, dv: Any) -> None:
    """Outside a change set the activity is still created: the call is on the record, the
    refused value is raised."""
    anna = _contact(env.sim, "Schmidt")
    before = anna["jobtitle"]
    with pytest.raises(CrmRejectedError) as caught:
        await dv.write_record(
            RecordWrite(
                record_type="contact",
                record_id=anna["contactid"],
                fields={"jobtitle": "y" * 101},
                activity=_call(anna, "r-1"),
                activity_may_exist=False,
            )
        )
    assert caught.value.field == "jobtitle" and caught.value.vendor_status == 400
    assert "maximum allowed length" in (caught.value.vendor_message or "")
    assert anna["jobtitle"] == before
    assert len(_calls_about(env.sim, anna)) == 1
    assert [m for m, _ in env.sim.batch_parts] == ["PATCH", "POST"]


async def test_a_failing_activity_leaves_the_values_written(env: Env) -> None:
    """The activity part fails (a description_max above the org's 2000-character column):
    its error is raised, the value part stays applied (no change set to roll it back)."""
    dv = env.adapter(description_max=5000)
    anna = _contact(env.sim, "Schmidt")
    with pytest.raises(CrmRejectedError) as caught:
        await dv.write_record(
            RecordWrite(
                record_type="contact",
                record_id=anna["contactid"],
                fields={"jobtitle": "Kept"},
                activity=_call(anna, "f-1", notes="n" * 3000),
                activity_may_exist=False,
            )
        )
    assert caught.value.field == "description" and caught.value.vendor_status == 400
    assert anna["jobtitle"] == "Kept"
    assert _calls_about(env.sim, anna) == []


async def test_a_throttled_batch_is_rate_limited_with_retry_after(env: Env, dv: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    await _warm(dv)
    env.sim.throttle_next = 1
    with pytest.raises(CrmRateLimitedError) as caught:
        await dv.write_record(
            RecordWrite(
                record_type="contact",
                record_id=anna["contactid"],
                fields={"jobtitle": "Later"},
                activity=_call(anna, "t-1"),
                activity_may_exist=False,
            )
        )
    assert caught.value.retry_after == 7 and caught.value.retryable
    assert env.sim.requests[-1][:2] == ("POST", "/api/data/v9.2/$batch")
    assert env.sim.batch_parts == [] and _calls_about(env.sim, anna) == []


async def test_a_retry_looks_the_key_up_and_sends_only_what_is_missing(env: Env, dv: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    await _warm(dv)

    def write(value: str, key: str) -> RecordWrite:
        return RecordWrite(
            record_type="contact",
            record_id=anna["contactid"],
            fields={"jobtitle": value},
            activity=_call(anna, key),
            activity_may_exist=True,
        )

    # nothing was sent before: the look-up, then both in one batch
    sent = len(env.sim.requests)
    first = await dv.write_record(write("One", "k-1"))
    assert [p for _, p, _ in env.sim.requests[sent:]] == [
        "/api/data/v9.2/phonecalls",
        "/api/data/v9.2/$batch",
    ]
    assert first is not None and first.created
    # the activity exists: the look-up, then the values alone as a plain PATCH
    sent = len(env.sim.requests)
    again = await dv.write_record(write("Two", "k-1"))
    assert [(m, p) for m, p, _ in env.sim.requests[sent:]] == [
        ("GET", "/api/data/v9.2/phonecalls"),
        ("PATCH", f"/api/data/v9.2/contacts({anna['contactid']})"),
    ]
    assert again is not None and (again.id, again.created) == (first.id, False)
    assert anna["jobtitle"] == "Two" and len(_calls_about(env.sim, anna)) == 1


async def test_a_lone_value_or_activity_goes_as_a_plain_request(env: Env, dv: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    await _warm(dv)
    sent = len(env.sim.requests)
    assert (
        await dv.write_record(
            RecordWrite(
                record_type="contact", record_id=anna["contactid"], fields={"jobtitle": "V"}
            )
        )
        is None
    )
    ref = await dv.write_record(
        RecordWrite(
            record_type="contact",
            record_id=anna["contactid"],
            activity=_call(anna, "lone"),
            activity_may_exist=False,
        )
    )
    assert [(m, p) for m, p, _ in env.sim.requests[sent:]] == [
        ("PATCH", f"/api/data/v9.2/contacts({anna['contactid']})"),
        ("POST", "/api/data/v9.2/phonecalls"),
    ]
    [call] = _calls_about(env.sim, anna)
    assert ref is not None and ref.id == call["activityid"] and anna["jobtitle"] == "V"


# The reply of Microsoft Learn's "Execute batch operations using the Web API" example with
# odata.continue-on-error (first task's subject too long, the two others created).
_LEARN_REPLY = (
    b"--batchresponse_f44bd09d\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"HTTP/1.1 400 Bad Request\r\n"
    b"REQ_ID: de4c5227-4a28-4ebd-8ced-3392ece1697b\r\n"
    b"Content-Type: application/json; odata.metadata=minimal\r\n"
    b"OData-Version: 4.0\r\n"
    b"\r\n"
    b'{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the '
    b"'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'.\"}}"
    b"\r\n--batchresponse_f44bd09d\r\n"
    b"Content-Type: application/http\r\n"
    b"Content-Transfer-Encoding: binary\r\n"
    b"\r\n"
    b"HTTP/1.1 204 No Content\r\n"
    b"OData-Version: 4.0\r\n"
    b"Location: https://org.example/api/data/v9.2/tasks(aed2ae8b-3c94-ed11-aad1-000d3a9933c9)\r\n"
    b"OData-EntityId: https://org.example/api/data/v9.2/tasks(aed2ae8b-3c94-ed11-aad1-000d3a9933c9)"
    b"\r\n\r\n\r\n"
    b"--batchresponse_f44bd09d--\r\n"
)


def test_a_batch_reply_is_read_part_by_part_through_the_error_table() -> None:
    first, second = parse_batch("multipart/mixed; boundary=batchresponse_f44bd09d", _LEARN_REPLY)
    assert isinstance(first.error, CrmRejectedError) and first.error.field == "subject"
    assert second.status == 204 and second.error is None
    assert created_id(second.headers) == "aed2ae8b-3c94-ed11-aad1-000d3a9933c9"


@pytest.mark.parametrize(
    ("status", "headers", "kind"),
    [
        (404, {}, CrmNotFoundError),
        (429, {"Retry-After": "12"}, CrmRateLimitedError),
        (503, {}, CrmUnavailableError),
    ],
)
def test_a_failing_part_maps_like_a_plain_reply(
    status: int, headers: dict[str, str], kind: type[Exception]
) -> None:
    lines = [f"HTTP/1.1 {status} Whatever", *(f"{k}: {v}" for k, v in headers.items())]
    part = "\r\n".join(lines) + '\r\n\r\n{"error":{"code":"0x1","message":"m"}}'
    body = (
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        f"{part}\r\n--b--\r\n"
    ).encode()
    [reply] = parse_batch("multipart/mixed; boundary=b", body)
    assert isinstance(reply.error, kind) and reply.error.vendor_status == status
    if status == 429:
        assert isinstance(reply.error, CrmRateLimitedError) and reply.error.retry_after == 12


def test_an_unreadable_batch_reply_is_unavailable() -> None:
    with pytest.raises(CrmUnavailableError):
        parse_batch("application/json", b'{"value": []}')
    with pytest.raises(CrmUnavailableError):
        parse_batch("multipart/mixed; boundary=b", b"--b\r\n\r\nnot http\r\n--b--\r\n")


async def test_the_simulator_ends_a_batch_at_its_first_failure_without_continue_on_error(
    env: Env,
) -> None:
    """As Microsoft Learn documents: without ``odata.continue-on-error`` the batch answers
    with the first failing part's status and that part alone; nothing after it runs."""
    token = (
        await env.http.post(
            f"{env.base}/{env.sim.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env.sim.client_id,
                "client_secret": env.sim.client_secret,
                "scope": "https://contoso.crm4.dynamics.com/.default",
            },
        )
    ).json()["access_token"]
    api = f"{env.base}/api/data/v9.2"
    anna = _contact(env.sim, "Schmidt")
    content_type, body = build_batch(
        [
            BatchOperation("PATCH", f"{api}/contacts({anna['contactid']})", {"jobtitle": "A"}),
            BatchOperation("PATCH", f"{api}/contacts({anna['contactid']})", {"nope": 1}),
            BatchOperation("PATCH", f"{api}/contacts({anna['contactid']})", {"jobtitle": "C"}),
        ],
        "batch_x",
    )
    reply = await env.http.post(
        f"{api}/$batch",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert reply.status_code == 400
    [part] = parse_batch(reply.headers["content-type"], reply.content)
    assert isinstance(part.error, CrmRejectedError) and part.error.field == "nope"
    assert anna["jobtitle"] == "A" and len(env.sim.batch_parts) == 2
