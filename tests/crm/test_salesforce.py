"""The Salesforce adapter against the local simulator (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from crm.adapters.salesforce.wire import SubRequest, composite_bodies, composite_request
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
from tests.crm.sim_salesforce import SalesforceSim, adapter_context, rsa_key_pair


class Env:
    def __init__(self, sim: SalesforceSim, base: str, http: httpx.AsyncClient) -> None:
        self.sim, self.base, self.http = sim, base, http
        self.adapters: list[Any] = []

    def adapter(self, **settings: Any) -> Any:
        adapter = create_adapter(adapter_context(self.sim, self.base, self.http, **settings))
        self.adapters.append(adapter)
        return adapter


@pytest.fixture
async def env(aiohttp_server) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    sim = SalesforceSim()
    server = await aiohttp_server(sim.app)
    async with httpx.AsyncClient(timeout=2.0) as http:
        environment = Env(sim, str(server.make_url("")).rstrip("/"), http)
        yield environment
        for adapter in environment.adapters:
            await adapter.aclose()


@pytest.fixture
def sf(env: Env) -> Any:
    return env.adapter()


def _contact(sim: SalesforceSim, last_name: str) -> dict[str, Any]:
    return next(r for r in sim.records["Contact"].values() if r["LastName"] == last_name)


async def test_registered_and_implements_the_protocol(sf: Any) -> None:
    assert isinstance(sf, CrmAdapter)
    assert sf.system.type == "salesforce"


async def test_phone_search_finds_formatted_numbers_with_sosl(env: Env, sf: Any) -> None:
    one = await sf.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert [r.title for r in one] == ["Anna Schmidt"]
    two = await sf.search(PhoneSearch(number=ANI_TWO_MATCHES))
    assert sorted(r.title for r in two) == ["Lena Fischer", "Paul Fischer"]
    jonas = await sf.search(PhoneSearch(number="+49 30 9876543"))
    assert [r.title for r in jonas] == ["Jonas Weber"]  # stored as "(030) 98765-43"
    mobile = await sf.search(PhoneSearch(number="+491712345678"))
    assert [r.title for r in mobile] == ["Anna Schmidt"]
    assert await sf.search(PhoneSearch(number=ANI_NO_MATCH)) == []
    searches = [q for m, p, q in env.sim.requests if p.endswith("/search")]
    assert searches and all("IN PHONE FIELDS" in q for q in searches)


async def test_phone_search_result_is_a_full_record(sf: Any) -> None:
    [anna] = await sf.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert anna.type == "Contact"
    assert anna.fields["Email"] == "anna.schmidt@example.de"
    assert anna.parent_ids["Account"].startswith("001")
    assert anna.url == f"{sf.system.base_url}/lightning/r/Contact/{anna.id}/view"
    assert anna.updated_at is not None


async def test_phone_search_drops_partial_token_matches(env: Env, sf: Any) -> None:
    # a number that shares the caller's digits only as a suffix must not match
    env.sim.insert("Contact", {"LastName": "Suffix", "Phone": "1234567"})
    found = await sf.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert [r.title for r in found] == ["Anna Schmidt"]


async def test_email_text_id_and_dynamic_search(env: Env, sf: Any) -> None:
    [maria] = await sf.search(EmailSearch(email="MARIA.OBRIEN@example.com"))
    assert maria.title == "Maria O'Brien"
    by_name = await sf.search(TextSearch(text="O'Brien"))
    assert [r.title for r in by_name] == ["Maria O'Brien"]
    fischers = await sf.search(TextSearch(text="fischer"))
    assert len(fischers) == 2
    [same] = await sf.search(IdSearch(record_type="Contact", id=maria.id))
    assert same.id == maria.id
    assert await sf.search(IdSearch(record_type="Contact", id="003000000000999AAA")) == []
    assert await sf.search(IdSearch(record_type="Contact", id="' OR Id != '")) == []
    dyn = await sf.search(
        DynamicSearch(
            record_type="Contact",
            join="and",
            conditions=[
                Condition(field="LastName", value="Fischer"),
                Condition(field="FirstName", operator="notequals", value="Lena"),
            ],
        )
    )
    assert [r.title for r in dyn] == ["Paul Fischer"]
    either = await sf.search(
        DynamicSearch(
            record_type="Contact",
            join="or",
            conditions=[
                Condition(field="Email", value="anna.schmidt@example.de"),
                Condition(field="Email", value="jonas.weber@example.de"),
            ],
        )
    )
    assert sorted(r.title for r in either) == ["Anna Schmidt", "Jonas Weber"]


@pytest.mark.parametrize("hostile", HOSTILE_INPUTS)
async def test_hostile_input_matches_nothing(sf: Any, hostile: str) -> None:
    assert await sf.search(TextSearch(text=hostile)) == []
    assert await sf.search(EmailSearch(email=hostile)) == []
    assert await sf.search(PhoneSearch(number=hostile)) == []
    assert (
        await sf.search(
            DynamicSearch(
                record_type="Contact", conditions=[Condition(field="LastName", value=hostile)]
            )
        )
        == []
    )


async def test_dynamic_search_refuses_a_field_name_that_is_not_one(env: Env, sf: Any) -> None:
    sent = len(env.sim.requests)
    with pytest.raises(CrmRejectedError):
        await sf.search(
            DynamicSearch(
                record_type="Contact",
                conditions=[Condition(field="LastName = 'x' OR Id", value="y")],
            )
        )
    assert not any("query" in p for _, p, _ in env.sim.requests[sent:])


async def test_unknown_field_is_rejected_with_vendor_message(sf: Any) -> None:
    with pytest.raises(CrmRejectedError) as caught:
        await sf.search(
            DynamicSearch(record_type="Contact", conditions=[Condition(field="Nope__c", value="y")])
        )
    assert caught.value.vendor_status == 400
    assert "No such column" in (caught.value.vendor_message or "")


async def test_get_create_update(env: Env, sf: Any) -> None:
    created = await sf.create(
        "Contact", {"FirstName": "Nina", "LastName": "Neu", "Phone": "+49 40 1112223"}
    )
    assert created.title == "Nina Neu"
    assert env.sim.records["Contact"][created.id]["Phone"] == "+49 40 1112223"
    updated = await sf.update("Contact", created.id, {"Title": "Buyer"})
    assert updated.fields["Title"] == "Buyer"
    fetched = await sf.get("Contact", created.id)
    assert fetched.fields["Title"] == "Buyer"
    with pytest.raises(CrmNotFoundError):
        await sf.get("Contact", "003000000000999AAA")
    with pytest.raises(CrmRejectedError) as caught:
        await sf.create("Contact", {"FirstName": "NoLast"})
    assert caught.value.field == "LastName"
    assert "Required fields are missing" in (caught.value.vendor_message or "")
    with pytest.raises(CrmRejectedError) as too_long:
        await sf.update("Contact", created.id, {"Title": "x" * 200})
    assert too_long.value.field == "Title"


async def test_create_custom_object_and_case(env: Env, sf: Any) -> None:
    project = await sf.create("Project__c", {"Name": "Rollout", "Status__c": "Open"})
    assert project.title == "Rollout"
    anna = _contact(env.sim, "Schmidt")
    case = await sf.create("Case", {"Subject": "Call back", "ContactId": anna["Id"]})
    assert case.title == "Call back"
    assert case.parent_ids == {"Contact": anna["Id"]}


async def test_related_contacts_and_cases(env: Env, sf: Any) -> None:
    lena = await sf.get("Contact", _contact(env.sim, "Fischer")["Id"])
    related = await sf.related(lena)
    assert [r.title for r in related] == ["Paul Fischer"]
    anna = await sf.get("Contact", _contact(env.sim, "Schmidt")["Id"])
    [case] = await sf.related(anna)
    assert (case.type, case.title) == ("Case", "Delivery delayed")
    back = await sf.related(case)
    assert {r.type for r in back} == {"Contact", "Account"}


async def test_timeline_task_is_idempotent(env: Env, sf: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    activity = TimelineActivity(
        key="int-42:Contact:" + anna["Id"],
        record_type="Contact",
        record_id=anna["Id"],
        subject="Inbound call",
        direction="inbound",
        duration_seconds=312,
        started_at=datetime(2026, 5, 1, 10, 0, tzinfo=UTC),
        disposition="Resolved",
        notes="Customer asked about delivery.",
        phone_number=ANI_ONE_MATCH,
    )
    first = await sf.add_timeline(activity)
    second = await sf.add_timeline(activity)
    assert first.created and not second.created and first.id == second.id
    [task] = [t for t in env.sim.records["Task"].values() if t["WhoId"] == anna["Id"]]
    assert task["CallObject"] == activity.key
    assert (task["CallType"], task["CallDurationInSeconds"], task["TaskSubtype"]) == (
        "Inbound",
        312,
        "Call",
    )
    assert task["ActivityDate"] == "2026-05-01"
    assert task["Description"].startswith("Customer asked about delivery.")
    case = next(iter(env.sim.records["Case"].values()))
    ref = await sf.add_timeline(
        TimelineActivity(key="k2", record_type="Case", record_id=case["Id"], subject="Note")
    )
    assert env.sim.records["Task"][ref.id]["WhatId"] == case["Id"]


async def test_long_timeline_key_is_hashed_to_fit(env: Env, sf: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    activity = TimelineActivity(
        key="k" * 400,
        record_type="Contact",
        record_id=anna["Id"],
        subject="s" * 300,
        notes="n" * 40_000,
    )
    ref = await sf.add_timeline(activity)
    task = env.sim.records["Task"][ref.id]
    assert len(task["CallObject"]) <= 255 and len(task["Subject"]) == 255
    assert len(task["Description"]) == 32_000
    assert not (await sf.add_timeline(activity)).created


# --- a memorialization job's write: one Composite request ------------------------------


def _job_write(record: dict[str, Any], key: str, **fields: Any) -> RecordWrite:
    return RecordWrite(
        record_type="Contact",
        record_id=record["Id"],
        fields=fields,
        activity=TimelineActivity(
            key=key, record_type="Contact", record_id=record["Id"], subject="Inbound call"
        ),
        activity_may_exist=False,
    )


def _tasks(sim: SalesforceSim, key: str) -> list[dict[str, Any]]:
    return [t for t in sim.records["Task"].values() if t["CallObject"] == key]


def _sent(sim: SalesforceSim, since: int) -> list[tuple[str, str]]:
    return [(method, path.split("/v62.0/")[-1]) for method, path, _ in sim.requests[since:]]


async def test_write_record_sends_the_values_and_the_task_in_one_composite(
    env: Env, sf: Any
) -> None:
    anna = _contact(env.sim, "Schmidt")
    sent, calls = len(env.sim.requests), env.sim.api_calls
    quotas: list[Quota | None] = []
    with observing_responses(quotas.append):
        ref = await sf.write_record(_job_write(anna, "job-1", Title="Buyer"))
    assert _sent(env.sim, sent) == [("POST", "composite")]
    assert env.sim.api_calls == calls + 1  # one call toward the daily allowance
    [quota] = quotas  # the composite's reply carries Sforce-Limit-Info like any other
    assert quota is not None and quota.limit == 15000 and quota.remaining == 15000 - calls - 1
    assert [(m, p.split("/v62.0/")[-1]) for m, p, _ in env.sim.subrequests] == [
        ("PATCH", f"sobjects/Contact/{anna['Id']}"),
        ("POST", "sobjects/Task/"),
    ]
    [task] = _tasks(env.sim, "job-1")
    assert ref is not None and (ref.id, ref.type, ref.created) == (task["Id"], "Task", True)
    assert task["WhoId"] == anna["Id"] and anna["Title"] == "Buyer"
    # a retry looks the key up, finds the Task and sends the values alone
    sent = len(env.sim.requests)
    again = await sf.write_record(
        _job_write(anna, "job-1", Title="Buyer").model_copy(update={"activity_may_exist": True})
    )
    assert again is not None and (again.id, again.created) == (ref.id, False)
    assert _sent(env.sim, sent) == [("GET", "query"), ("PATCH", f"sobjects/Contact/{anna['Id']}")]
    assert len(_tasks(env.sim, "job-1")) == 1


async def test_a_retry_whose_task_is_missing_sends_the_composite_after_the_look_up(
    env: Env, sf: Any
) -> None:
    anna = _contact(env.sim, "Schmidt")
    sent = len(env.sim.requests)
    write = _job_write(anna, "job-2", Title="Lead buyer")
    ref = await sf.write_record(write.model_copy(update={"activity_may_exist": True}))
    assert _sent(env.sim, sent) == [("GET", "query"), ("POST", "composite")]
    assert ref is not None and ref.created and anna["Title"] == "Lead buyer"
    assert len(_tasks(env.sim, "job-2")) == 1
    # the task alone (no values): a plain create, no composite
    sent = len(env.sim.requests)
    alone = await sf.write_record(_job_write(anna, "job-3"))
    assert _sent(env.sim, sent) == [("POST", "sobjects/Task/")]
    assert alone is not None and alone.created and len(_tasks(env.sim, "job-3")) == 1


async def test_a_rejected_value_in_the_composite_names_the_field(env: Env, sf: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    with pytest.raises(CrmRejectedError) as caught:
        await sf.write_record(_job_write(anna, "job-4", Title="x" * 200))  # Title holds 128
    assert caught.value.field == "Title" and caught.value.vendor_status == 400
    assert "data value too large" in (caught.value.vendor_message or "")
    assert anna["Title"] is None
    # allOrNone false: the Task part stood alone, so a retry finds it instead of a second
    assert len(_tasks(env.sim, "job-4")) == 1


async def test_a_refused_task_is_surfaced_while_the_values_stay_written(env: Env) -> None:
    sf = env.adapter(timeline_key_field="Call_Key__c")  # a key field this org's Task lacks
    anna = _contact(env.sim, "Schmidt")
    tasks = len(env.sim.records["Task"])
    with pytest.raises(CrmRejectedError) as caught:
        await sf.write_record(_job_write(anna, "job-5", Title="Buyer"))
    assert caught.value.field == "Call_Key__c" and caught.value.vendor_status == 400
    assert "No such column" in (caught.value.vendor_message or "")
    assert anna["Title"] == "Buyer"  # not rolled back with the Task
    assert len(env.sim.records["Task"]) == tasks


async def test_a_composite_for_an_unknown_record_is_not_found(env: Env, sf: Any) -> None:
    ghost = {"Id": "003000000000999AAA"}
    with pytest.raises(CrmNotFoundError) as caught:
        await sf.write_record(_job_write(ghost, "job-6", Title="Buyer"))
    assert caught.value.vendor_status == 404


async def test_a_throttled_composite_is_rate_limited(env: Env, sf: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    env.sim.throttle_next = 1
    sent = len(env.sim.requests)
    with pytest.raises(CrmRateLimitedError) as caught:
        await sf.write_record(_job_write(anna, "job-7", Title="Buyer"))
    assert caught.value.retryable and caught.value.vendor_status == 403
    assert _sent(env.sim, sent) == [("POST", "composite")]
    assert anna["Title"] is None and not _tasks(env.sim, "job-7")


def test_composite_parts_map_like_plain_replies() -> None:
    parts = (
        SubRequest("values", "PATCH", "sobjects/Contact/003000000000001AAA", {"Title": "x"}),
        SubRequest("task", "POST", "sobjects/Task/", {"Subject": "s"}),
    )
    body = composite_request("62.0", parts)
    assert body["allOrNone"] is False
    assert [r["url"] for r in body["compositeRequest"]] == [
        "/services/data/v62.0/sobjects/Contact/003000000000001AAA",
        "/services/data/v62.0/sobjects/Task/",
    ]

    def reply(status: int, task_body: Any, headers: dict[str, str] | None = None) -> Any:
        return {
            "compositeResponse": [
                {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "values"},
                {
                    "body": task_body,
                    "httpHeaders": headers or {},
                    "httpStatusCode": status,
                    "referenceId": "task",
                },
            ]
        }

    ok = composite_bodies(reply(201, {"id": "00T000000000001AAA", "success": True}), parts)
    assert ok["task"]["id"] == "00T000000000001AAA"
    limit = [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
    with pytest.raises(CrmRateLimitedError) as throttled:
        composite_bodies(reply(403, limit, {"Retry-After": "30"}), parts)
    assert throttled.value.retry_after == 30.0
    with pytest.raises(CrmUnavailableError):
        composite_bodies(reply(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}]), parts)
    with pytest.raises(CrmUnavailableError):  # a part the reply does not answer: unknown
        composite_bodies({"compositeResponse": reply(201, {})["compositeResponse"][:1]}, parts)


async def test_the_simulator_rolls_back_an_all_or_none_composite(env: Env, sf: Any) -> None:
    anna = _contact(env.sim, "Schmidt")
    parts = (
        SubRequest("values", "PATCH", f"sobjects/Contact/{anna['Id']}", {"Title": "Buyer"}),
        SubRequest("task", "POST", "sobjects/Task/", {"Nope__c": "x"}),
    )
    body = {**composite_request("62.0", parts), "allOrNone": True}
    reply = (await sf._request("POST", "composite", json=body)).json()["compositeResponse"]
    assert [(r["referenceId"], r["httpStatusCode"]) for r in reply] == [
        ("values", 400),
        ("task", 400),
    ]
    assert reply[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert reply[1]["body"][0]["fields"] == ["Nope__c"]
    assert _contact(env.sim, "Schmidt")["Title"] is None


async def test_metadata_maps_types_and_lengths(sf: Any) -> None:
    types = {t.name: t for t in await sf.list_record_types()}
    assert {"Contact", "Account", "Case", "Lead", "Project__c"} <= set(types)
    assert "ContactHistory" not in types
    assert types["Project__c"].standard is False
    fields = {f.name: f for f in await sf.list_fields("Contact")}
    assert fields["Phone"].type == FieldType.PHONE and fields["Phone"].max_length == 40
    assert fields["Email"].type == FieldType.EMAIL
    assert fields["Description"].type == FieldType.LONG_TEXT
    assert fields["Description"].max_length == 32000
    assert fields["LastName"].required and not fields["FirstName"].required
    assert fields["Name"].createable is False
    assert fields["AccountId"].type == FieldType.REFERENCE
    assert fields["Customer_Tier__c"].custom and fields["Customer_Tier__c"].options == [
        "Gold",
        "Silver",
    ]
    assert fields["LastModifiedDate"].type == FieldType.DATETIME
    assert fields["MailingAddress"].type == FieldType.OTHER


# --- tokens, throttling, failures -------------------------------------------------------


async def test_one_token_for_many_calls(env: Env, sf: Any) -> None:
    for _ in range(5):
        await sf.search(EmailSearch(email="anna.schmidt@example.de"))
    await sf.check()
    assert env.sim.tokens_issued == 1


async def test_expired_session_is_refreshed_once_and_retried(env: Env, sf: Any) -> None:
    await sf.check()
    env.sim.expire_tokens()
    [anna] = await sf.search(EmailSearch(email="anna.schmidt@example.de"))
    assert anna.title == "Anna Schmidt"
    assert env.sim.tokens_issued == 2


async def test_token_that_keeps_failing_is_an_auth_error(env: Env) -> None:
    env.sim.expire_after_calls = 0  # every token is refused at once
    sf = env.adapter()
    with pytest.raises(CrmAuthError) as caught:
        await sf.check()
    assert caught.value.vendor_status == 401
    assert env.sim.tokens_issued == 2  # the first and exactly one refresh


async def test_wrong_secret_is_an_auth_error_without_the_secret(env: Env) -> None:
    sf = env.adapter(client_secret="a-wrong-secret")
    with pytest.raises(CrmAuthError) as caught:
        await sf.check()
    assert "invalid_client" in caught.value.detail
    assert "a-wrong-secret" not in repr(caught.value.__dict__) + str(caught.value)


async def test_jwt_bearer_flow(env: Env) -> None:
    private, public = rsa_key_pair()
    env.sim.public_key = public
    sf = env.adapter(auth="jwt_bearer", username=env.sim.username, private_key=private)
    [anna] = await sf.search(PhoneSearch(number=ANI_ONE_MATCH))
    assert anna.title == "Anna Schmidt"
    other, _ = rsa_key_pair()
    wrong = env.adapter(auth="jwt_bearer", username=env.sim.username, private_key=other)
    with pytest.raises(CrmAuthError, match="invalid_grant"):
        await wrong.check()


async def test_instance_url_from_token_and_override(env: Env, aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    # the token answer names another host (the real API host); the adapter follows it
    api = SalesforceSim()
    api_server = await aiohttp_server(api.app)
    env.sim.instance_url = str(api_server.make_url("")).rstrip("/")
    api._tokens = env.sim._tokens  # the API host accepts what the login host minted
    sf = env.adapter()
    await sf.search(EmailSearch(email="anna.schmidt@example.de"))
    assert api.requests and not env.sim.requests
    # an instance_url setting wins over the token answer
    env.sim.requests.clear()
    pinned = env.adapter(instance_url=env.base)
    await pinned.check()
    assert env.sim.requests


async def test_request_limit_exceeded_is_rate_limited(env: Env, sf: Any) -> None:
    env.sim.throttle_next = 1
    with pytest.raises(CrmRateLimitedError) as caught:
        await sf.search(EmailSearch(email="anna.schmidt@example.de"))
    assert caught.value.retryable and caught.value.vendor_status == 403
    assert caught.value.retry_after is None  # Salesforce gives no hint
    assert await sf.search(EmailSearch(email="anna.schmidt@example.de"))


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_unavailable(env: Env, sf: Any, status: int) -> None:
    env.sim.fail_next = [status]
    with pytest.raises(CrmUnavailableError) as caught:
        await sf.get("Contact", _contact(env.sim, "Schmidt")["Id"])
    assert caught.value.retryable and caught.value.vendor_status == status


async def test_timeout_is_unavailable_and_flagged(env: Env) -> None:
    await env.http.aclose()
    async with httpx.AsyncClient(timeout=0.2) as http:
        sf = create_adapter(adapter_context(env.sim, env.base, http))
        try:
            await sf.check()
            env.sim.delay = 1.0
            with pytest.raises(CrmUnavailableError) as caught:
                await sf.check()
            assert caught.value.timed_out and caught.value.http_status == 504
        finally:
            env.sim.delay = 0
            await sf.aclose()


async def test_unreachable_is_unavailable(env: Env) -> None:
    sf = env.adapter(login_url="http://127.0.0.1:9")
    with pytest.raises(CrmUnavailableError):
        await sf.check()


async def test_paging_follows_next_records_url(env: Env, sf: Any) -> None:
    env.sim.batch_size = 2
    for n in range(7):
        env.sim.insert("Contact", {"LastName": "Pager", "FirstName": f"P{n}"})
    found = await sf.search(TextSearch(text="Pager", limit=5))
    assert len(found) == 5
    found = await sf.search(TextSearch(text="Pager", limit=25))
    assert len(found) == 7
    assert any("/query/01gSIM" in p for _, p, _ in env.sim.requests)


async def test_api_version_is_configurable(env: Env) -> None:
    sf = env.adapter(api_version="58.0")
    await sf.check()
    assert "/services/data/v58.0/" in [path for _, path, _ in env.sim.requests]
    assert env.sim.requests[-1][1] == "/services/data/v58.0/sobjects/Lead/describe/"
    old = env.adapter(api_version="20.0")
    with pytest.raises(CrmNotFoundError):
        await old.check()


def test_settings_are_checked() -> None:
    sim = SalesforceSim()
    with pytest.raises(ConfigError) as caught:
        create_adapter(adapter_context(sim, "http://x", None, client_id=""))
    assert caught.value.field == "settings.client_id"
    with pytest.raises(ConfigError):
        create_adapter(adapter_context(sim, "http://x", None, auth="password"))
    with pytest.raises(ConfigError):
        create_adapter(adapter_context(sim, "http://x", None, api_version="latest"))


def test_record_url_uses_the_lightning_domain() -> None:
    sim = SalesforceSim()
    adapter = create_adapter(adapter_context(sim, "https://acme.my.salesforce.com", None))
    assert adapter.record_url("Contact", "003000000000001AAA") == (
        "https://acme.lightning.force.com/lightning/r/Contact/003000000000001AAA/view"
    )
    sandbox = create_adapter(
        adapter_context(sim, "https://acme--uat.sandbox.my.salesforce.com", None)
    )
    assert sandbox.system.base_url == "https://acme--uat.sandbox.lightning.force.com"


async def test_the_check_names_a_caller_object_the_org_lacks(env: Env) -> None:
    sf = env.adapter(caller_record_types=["Contact", "Patient__c"])
    warnings = await sf.check()
    assert len(warnings) == 1 and warnings[0].startswith("caller_record_types:")
    assert "'Patient__c'" in warnings[0]
    assert await env.adapter().check() == []
