"""ServiceNow adapter against its simulator: OAuth token life cycle, basic auth, throttling,
failures, paging, guards against widened queries, timeline, links and configuration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from crm.adapters.servicenow import ServiceNowAdapter, ServiceNowSettings
from crm.adapters.servicenow.wire import policy_field
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
    EmailSearch,
    PhoneSearch,
    RecordWrite,
    TextSearch,
    TimelineActivity,
)
from crm.registry import AdapterContext, create_adapter

from .dataset import ANI_ONE_MATCH
from .sim_servicenow import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    USERNAME,
    ServiceNowSim,
    start_adapter,
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def _anna(adapter):
    return (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]


def _user_queries(sim: ServiceNowSim) -> list[str]:
    return [
        query.get("sysparm_query", "")
        for method, path, query, _ in sim.requests
        if path.endswith("/table/sys_user") and method == "GET"
    ]


async def test_oauth_token_is_minted_once_and_reused(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, auth="oauth")
    await _anna(adapter)
    await adapter.search(TextSearch(text="Fischer"))
    assert sim.token_grants == ["password"]
    await adapter.aclose()


async def test_expired_token_is_refreshed_once_and_the_call_retried(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, auth="oauth")
    await _anna(adapter)
    sim.expire_access_tokens()
    assert (await _anna(adapter)).title == "Anna Schmidt"
    assert sim.token_grants == ["password", "refresh_token"]
    statuses = [path for _, path, _, _ in sim.requests if path.endswith("/sys_user")]
    assert len(statuses) == 3  # first search, refused call, retry
    await adapter.aclose()


async def test_revoked_refresh_token_falls_back_to_the_password_grant(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, auth="oauth")
    await _anna(adapter)
    sim.refresh_tokens.clear()
    sim.expire_access_tokens()
    await _anna(adapter)
    assert sim.token_grants == ["password", "refresh_token", "password"]
    await adapter.aclose()


async def test_token_is_refreshed_in_the_background_before_it_expires(aiohttp_server, http):
    sim = ServiceNowSim(token_lifetime=2)
    sim.seed()
    server = await aiohttp_server(sim.app())
    settings = ServiceNowSettings.model_validate(
        {"instance": "acme", "auth": "oauth", "api_base": str(server.make_url("/"))}
    )
    adapter = ServiceNowAdapter(
        settings,
        {
            "username": USERNAME,
            "password": PASSWORD,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        http,
        refresh_margin=1.5,
    )
    await _anna(adapter)
    for _ in range(40):  # the refresher wakes after about one second
        if "refresh_token" in sim.token_grants:
            break
        await asyncio.sleep(0.1)
    assert sim.token_grants == ["password", "refresh_token"]
    await adapter.aclose()


async def test_refused_oauth_client_is_an_auth_error_without_secrets(aiohttp_server, http):
    sim, adapter = await start_adapter(
        aiohttp_server,
        http,
        auth="oauth",
        secrets={
            "username": USERNAME,
            "password": PASSWORD,
            "client_id": CLIENT_ID,
            "client_secret": "wrong-Secret-789",
        },
    )
    with pytest.raises(CrmAuthError) as caught:
        await _anna(adapter)
    text = f"{caught.value.detail} {caught.value.vendor_message}"
    assert "access_denied" in text
    assert "wrong-Secret-789" not in text and PASSWORD not in text
    await adapter.aclose()


async def test_basic_auth_and_a_refused_password(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, auth="basic")
    assert (await _anna(adapter)).title == "Anna Schmidt"
    assert sim.token_grants == []
    sim2, wrong = await start_adapter(
        aiohttp_server, http, secrets={"username": USERNAME, "password": "nope-nope"}
    )
    with pytest.raises(CrmAuthError) as caught:
        await _anna(wrong)
    assert caught.value.vendor_message == (
        "User Not Authenticated - Required to provide Auth information"
    )
    assert len(sim2.requests) == 1  # basic credentials are not retried


async def test_throttling_is_a_rate_limit_error_with_the_wait(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    sim.throttle_next("7")
    with pytest.raises(CrmRateLimitedError) as caught:
        await _anna(adapter)
    assert caught.value.retry_after == 7.0
    sim.throttle_next(None)  # no Retry-After: the reset time of the rate-limit rule
    with pytest.raises(CrmRateLimitedError) as caught:
        await _anna(adapter)
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 30


async def test_server_errors_and_timeouts_are_unavailable(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, timeout_seconds=0.2)
    sim.fail_next(503)
    with pytest.raises(CrmUnavailableError) as caught:
        await _anna(adapter)
    assert caught.value.vendor_status == 503
    sim.stall_next(0.6)
    with pytest.raises(CrmUnavailableError) as caught:
        await _anna(adapter)
    assert caught.value.timed_out


async def test_list_queries_follow_the_link_header(aiohttp_server, http):
    sim = ServiceNowSim()
    for i in range(120):
        sim.insert("sys_user", {"first_name": f"P{i}", "last_name": "Muster"})
    sim, adapter = await start_adapter(aiohttp_server, http, sim=sim)
    found = await adapter.search(TextSearch(text="Muster", limit=120))
    assert len({r.id for r in found}) == 120
    offsets = [q.get("sysparm_offset") for _, p, q, _ in sim.requests if p.endswith("sys_user")]
    assert offsets == [None, "100"]


async def test_v1_answers_404_to_an_empty_list_and_that_is_no_match(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http, api_version="v1")
    assert await adapter.search(EmailSearch(email="nobody@example.org")) == []
    assert (await _anna(adapter)).title == "Anna Schmidt"
    assert all("/api/now/v1/table/" in p for _, p, _, _ in sim.requests)


async def test_a_caret_in_agent_input_sends_no_query(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    assert await adapter.search(EmailSearch(email="x@y.z^ORemail!=x")) == []
    assert await adapter.search(TextSearch(text="javascript:gs.getUserID()")) == []
    assert _user_queries(sim) == []


async def test_dynamic_search_checks_fields_against_the_dictionary(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.search(
            DynamicSearch(record_type="sys_user", conditions=[Condition(field="titel", value="x")])
        )
    assert caught.value.field == "titel"
    assert _user_queries(sim) == []  # the platform would have dropped it and matched all
    found = await adapter.search(
        DynamicSearch(
            record_type="sys_user",
            join="or",
            conditions=[
                Condition(field="last_name", value="Fischer"),
                Condition(field="title", value="a^b"),
            ],
        )
    )
    assert sorted(r.title for r in found) == ["Lena Fischer", "Paul Fischer"]


async def test_timeline_on_an_incident_is_one_work_note_per_key(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    incident = next(iter(sim.tables["incident"].values()))
    activity = TimelineActivity(
        key="int-7:incident",
        record_type="incident",
        record_id=incident["sys_id"],
        subject="Inbound call",
        direction="inbound",
        notes="Invoice question",
    )
    first = await adapter.add_timeline(activity)
    again = await adapter.add_timeline(activity)
    entries = sim.journal_for(incident["sys_id"])
    assert first.type == "work_notes" and first.created and not again.created
    assert first.id == again.id == entries[0]["sys_id"] and len(entries) == 1
    assert entries[0]["element"] == "work_notes"
    assert entries[0]["value"].startswith("Inbound call\nvoice · inbound")


def _incident_write(incident, key: str, fields, may_exist: bool = False) -> RecordWrite:
    return RecordWrite(
        record_type="incident",
        record_id=incident["sys_id"],
        fields=fields,
        activity=TimelineActivity(
            key=key, record_type="incident", record_id=incident["sys_id"], subject="Inbound call"
        ),
        activity_may_exist=may_exist,
    )


def _writes(sim: ServiceNowSim) -> list[tuple[str, str, dict]]:
    return [(m, p, body) for m, p, _, body in sim.requests if m != "GET"]


async def test_write_record_sends_an_incidents_values_and_work_note_in_one_patch(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    incident = next(iter(sim.tables["incident"].values()))
    sent = len(sim.requests)
    ref = await adapter.write_record(
        _incident_write(incident, "int-9:incident", {"category": "billing"})
    )
    [(method, path, body)] = [(m, p, b) for m, p, _, b in sim.requests[sent:]]
    assert (method, path) == ("PATCH", f"/api/now/table/incident/{incident['sys_id']}")
    assert body["category"] == "billing" and "[customer-card ref" in body["work_notes"]
    [entry] = sim.journal_for(incident["sys_id"])
    assert entry["value"] == body["work_notes"] and incident["category"] == "billing"
    assert ref is not None and (ref.id, ref.type, ref.created) == (
        incident["sys_id"],
        "work_notes",
        True,
    )


async def test_write_record_retried_finds_the_work_note_and_still_writes_the_values(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    incident = next(iter(sim.tables["incident"].values()))
    first = await adapter.write_record(_incident_write(incident, "int-10", {"category": "a"}))
    sent = len(sim.requests)
    again = await adapter.write_record(
        _incident_write(incident, "int-10", {"category": "b"}, may_exist=True)
    )
    methods = [(m, p.rsplit("/", 2)[-2]) for m, p, _, _ in sim.requests[sent:]]
    assert methods == [("GET", "table"), ("PATCH", "incident")]  # the look-up, the values
    assert sim.requests[-1][3] == {"category": "b"}
    assert again == first.model_copy(update={"created": False})
    assert len(sim.journal_for(incident["sys_id"])) == 1 and incident["category"] == "b"


async def test_write_record_refused_by_a_data_policy_names_the_field(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    incident = next(iter(sim.tables["incident"].values()))
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(
            _incident_write(incident, "int-11", {"short_description": "", "category": "x"})
        )
    assert caught.value.field == "short_description"
    assert caught.value.vendor_status == 403
    assert "Short description is mandatory" in (caught.value.vendor_message or "")
    # nothing of the write happened: no value, no work note
    assert sim.journal_for(incident["sys_id"]) == [] and incident["category"] == ""


async def test_write_record_throttled_is_a_rate_limit_error_and_writes_nothing(
    aiohttp_server, http
):
    sim, adapter = await start_adapter(aiohttp_server, http)
    incident = next(iter(sim.tables["incident"].values()))
    sim.throttle_next("7")
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_record(_incident_write(incident, "int-12", {"category": "x"}))
    assert caught.value.retry_after == 7.0
    assert sim.journal_for(incident["sys_id"]) == [] and incident["category"] == ""


async def test_write_record_of_a_person_patches_then_creates_the_interaction(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    sent = len(sim.requests)
    ref = await adapter.write_record(
        RecordWrite(
            record_type="sys_user",
            record_id=anna.id,
            fields={"title": "Dr."},
            activity=TimelineActivity(
                key="int-13", record_type="sys_user", record_id=anna.id, subject="Call"
            ),
            activity_may_exist=False,
        )
    )
    assert [(m, p.rsplit("/", 2)[-2]) for m, p, _ in _writes(sim)[-2:]] == [
        ("PATCH", "sys_user"),
        ("POST", "table"),
    ]
    assert len(sim.requests) - sent == 2  # no look-up, no read-back
    assert sim.tables["sys_user"][anna.id]["title"] == "Dr."
    assert ref is not None and sim.tables["interaction"][ref.id]["opened_for"] == anna.id


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Operation Failed - Data Policy Exception: Short description is mandatory", "sd"),
        ("Data Policy Exception: Caller is mandatory Short description is mandatory", "sd"),
        ("Data Policy Exception: The following fields are mandatory: Resolution code", "rc"),
        ("Operation Failed - ACL restricts the update", None),
        ("Data Policy Exception: Urgency is mandatory", None),
    ],
)
def test_policy_field_finds_the_field_a_data_policy_names_by_label(message, field):
    labels = {"caller_id": "Caller", "sd": "Short description", "rc": "Resolution code"}
    assert policy_field(message, labels, written=["sd"]) == field


async def test_timeline_on_a_person_is_an_interaction(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    ref = await adapter.add_timeline(
        TimelineActivity(
            key="int-8",
            record_type="sys_user",
            record_id=anna.id,
            subject="Chat",
            channel="digital",
        )
    )
    row = sim.tables["interaction"][ref.id]
    assert (row["opened_for"], row["type"], row["context_table"]) == (anna.id, "chat", "sys_user")
    assert ref.type == "interaction" and row["number"].startswith("IMS")


async def test_related_people_share_the_company_and_incidents_follow(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    anna = await _anna(adapter)
    assert [(r.type, r.title) for r in await adapter.related(anna)] == [
        ("incident", "INC0010001: Lieferung verspätet")
    ]
    lena = (await adapter.search(TextSearch(text="Lena Fischer")))[0]
    assert [r.title for r in await adapter.related(lena)] == ["Paul Fischer"]
    incident = (await adapter.related(anna))[0]
    assert [r.title for r in await adapter.related(incident)] == ["Anna Schmidt"]


async def test_record_url_and_metadata(aiohttp_server, http):
    sim, adapter = await start_adapter(aiohttp_server, http)
    assert adapter.record_url("incident", "a" * 32) == (
        "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D" + "a" * 32
    )
    types = {t.name: t for t in await adapter.list_record_types()}
    assert {"sys_user", "incident", "interaction"} <= set(types)
    assert not types["u_parcel"].standard
    fields = {f.name: f for f in await adapter.list_fields("incident")}
    assert fields["short_description"].required and fields["short_description"].max_length == 160
    assert fields["work_notes"].type == "long_text" and fields["caller_id"].type == "reference"
    assert fields["number"].type == "text" and not fields["sys_updated_on"].updateable


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {"username": "u", "password": "p"}, "settings.instance"),
        (
            {"instance": "acme", "auth": "kerberos"},
            {"username": "u", "password": "p"},
            "settings.auth",
        ),
        ({"instance": "acme", "auth": "oauth"}, {"username": "u", "password": "p"}, "client_id"),
        (
            {"instance": "acme", "api_version": "v9"},
            {"username": "u", "password": "p"},
            "settings.api_version",
        ),
    ],
)
async def test_configuration_errors_name_the_setting(http, settings, secrets, field):
    with pytest.raises(ConfigError) as caught:
        create_adapter(
            AdapterContext(
                configuration_id="c",
                type="servicenow",
                label="S",
                settings=settings,
                secrets=secrets,
                http=http,
            )
        )
    assert caught.value.field == field


async def test_phone_search_pages_past_candidates_that_only_share_the_last_digits(
    aiohttp_server, http
):
    """The query narrows candidates by the number's last digits; when many other numbers end
    the same, the caller's record (here the 321st candidate) is still found."""
    sim = ServiceNowSim()
    sim.seed()
    for i in range(320):  # other callers whose numbers end in the same four digits
        sim.insert(
            "sys_user",
            {"first_name": "Other", "last_name": f"Caller {i}", "phone": f"+49 40 55{i:03d}9876"},
        )
    caller = sim.insert(
        "sys_user", {"first_name": "Ida", "last_name": "Lang", "phone": "+49 40 123 9876"}
    )
    sim, adapter = await start_adapter(aiohttp_server, http, sim)
    found = await adapter.search(PhoneSearch(number="+49401239876"))
    assert [record.id for record in found] == [caller["sys_id"]]
    assert len(_user_queries(sim)) == 4  # pages of 100 candidates until the caller
    await adapter.aclose()


async def test_the_check_names_a_caller_table_the_instance_lacks(aiohttp_server, http):
    sim, adapter = await start_adapter(
        aiohttp_server, http, caller_tables=["sys_user", "x_acme_patient"]
    )
    warnings = await adapter.check()
    assert len(warnings) == 1 and warnings[0].startswith("caller_tables:")
    assert "'x_acme_patient'" in warnings[0]
    found = await adapter.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert [record.title for record in found] == ["Anna Schmidt"]
    await adapter.aclose()
