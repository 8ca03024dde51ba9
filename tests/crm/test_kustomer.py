"""The Kustomer adapter against its simulator: key, throttling, failures, paging, timeline."""

from __future__ import annotations

import time
from typing import Any

import pytest

from crm.errors import CrmAuthError, CrmRateLimitedError, CrmRejectedError, CrmUnavailableError
from crm.models import PhoneSearch, RecordWrite, TextSearch, TimelineActivity
from tests.crm.dataset import ANI_ONE_MATCH
from tests.crm.test_kustomer_contract import start_kustomer


@pytest.fixture
async def kustomer(aiohttp_server: Any) -> Any:
    adapter, state, http = await start_kustomer(aiohttp_server)
    yield adapter, state
    await http.aclose()


async def test_a_refused_key_is_an_auth_error_without_the_key(aiohttp_server: Any) -> None:
    adapter, _, http = await start_kustomer(aiohttp_server, secrets={"api_key": "revoked-key-123"})
    with pytest.raises(CrmAuthError) as caught:
        await adapter.check()
    assert "revoked-key-123" not in str(caught.value.to_json()) + str(caught.value.vendor_message)
    await http.aclose()


@pytest.mark.parametrize(
    "headers, wait",
    [
        ({"x-ratelimit-reset": "12"}, 12.0),
        ({"Retry-After": "3", "x-ratelimit-reset": "12"}, 3.0),
    ],
)
async def test_throttling_reports_the_wait(
    kustomer: Any, headers: dict[str, str], wait: float
) -> None:
    adapter, state = kustomer
    state.throttle.append(headers)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.search(TextSearch(text="Weber"))
    assert caught.value.retry_after == wait


async def test_throttling_with_an_epoch_reset(kustomer: Any) -> None:
    adapter, state = kustomer
    state.throttle.append({"x-ratelimit-reset": str(int(time.time()) + 30)})
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.search(TextSearch(text="Weber"))
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 31


async def test_server_error_and_timeout_are_unavailable(aiohttp_server: Any) -> None:
    adapter, state, http = await start_kustomer(aiohttp_server, timeout=0.2)
    state.failures.append(500)
    with pytest.raises(CrmUnavailableError):
        await adapter.search(TextSearch(text="Weber"))
    state.delay = 0.5
    with pytest.raises(CrmUnavailableError) as slow:
        await adapter.search(TextSearch(text="Weber"))
    assert slow.value.timed_out
    await http.aclose()


async def test_search_follows_links_next(kustomer: Any) -> None:
    adapter, state = kustomer
    for n in range(130):
        state.add(
            "customer",
            {
                "name": f"Pager Person {n}",
                "emails": [],
                "phones": [],
                "sharedPhones": [],
                "custom": {},
            },
        )
    found = await adapter.search(TextSearch(text="Pager", limit=120))
    assert len(found) == 120
    assert any("page=2" in path for _, path in state.requests)


async def test_duplicate_identifiers_are_rejected_with_kustomers_words(kustomer: Any) -> None:
    adapter, _ = kustomer
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.create("customer", {"name": "Copy", "email": "anna.schmidt@example.de"})
    assert "already in use" in (caught.value.vendor_message or "")


async def test_update_keeps_other_identifiers(kustomer: Any) -> None:
    adapter, state = kustomer
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    updated = await adapter.update("customer", anna.id, {"mobile": "+49 171 0000000"})
    assert updated.fields["phone"] == "+49 30 1234567"
    assert updated.fields["mobile"] == "+49 171 0000000"


async def test_phone_search_covers_mobile_numbers(kustomer: Any) -> None:
    adapter, _ = kustomer
    found = await adapter.search(PhoneSearch(number="+491712345678"))
    assert [r.title for r in found] == ["Anna Schmidt"]


async def test_phone_search_checks_every_phone_entry(kustomer: Any) -> None:
    """Issue #14: a customer found by a later phone entry was dropped by the re-check,
    which looked only at the first work and mobile number."""
    adapter, state = kustomer
    state.add(
        "customer",
        {
            "name": "Ida Brandt",
            "phones": [
                {"type": "work", "phone": "+49 40 5550130"},
                {"type": "work", "phone": "(040) 5550131"},
                {"type": "mobile", "phone": "0160 5550132"},
                {"type": "mobile", "phone": "+49 (0)160 5550133"},
            ],
            "sharedPhones": [{"type": "home", "phone": "040/5550134"}],
            "emails": [],
            "custom": {},
        },
    )
    for ani in ("+49405550131", "+491605550133", "+49405550134", "0405550131"):
        found = await adapter.search(PhoneSearch(number=ani))
        assert [r.title for r in found] == ["Ida Brandt"], ani
    assert await adapter.search(PhoneSearch(number="+43 40 5550131")) == []


async def test_a_foreign_number_stored_with_the_international_prefix_is_found(
    kustomer: Any,
) -> None:
    adapter, state = kustomer
    state.add(
        "customer",
        {"name": "Franz Huber", "phones": [{"type": "work", "phone": "0043 1 5550140"}]},
    )
    found = await adapter.search(PhoneSearch(number="+4315550140"))
    assert [r.title for r in found] == ["Franz Huber"]
    assert await adapter.search(PhoneSearch(number="+4915550140")) == []


async def test_timeline_on_a_conversation_is_one_note_per_key(kustomer: Any) -> None:
    adapter, state = kustomer
    conversation = next(iter(state.resources["conversation"]))
    activity = TimelineActivity(
        key="int-9:conversation:x",
        record_type="conversation",
        record_id=conversation,
        subject="Inbound call",
        notes="y" * 20_000,
    )
    first = await adapter.add_timeline(activity)
    again = await adapter.add_timeline(activity)
    notes = list(state.resources["note"].values())
    assert len(notes) == 1 and len(notes[0]["attributes"]["body"]) <= 10_240
    assert (first.created, again.created, again.id) == (True, False, first.id)


async def test_related_lists_the_customers_conversations(kustomer: Any) -> None:
    adapter, _ = kustomer
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    related = await adapter.related(anna)
    assert [(r.type, r.title) for r in related] == [("conversation", "Delivery delayed")]
    assert related[0].url == f"https://acme.kustomerapp.com/app/conversations/{related[0].id}"


def _customer_write(customer_id: str, fields: dict[str, Any]) -> RecordWrite:
    return RecordWrite(
        record_type="customer",
        record_id=customer_id,
        fields=fields,
        activity=TimelineActivity(
            key=f"int-5:customer:{customer_id}",
            record_type="customer",
            record_id=customer_id,
            subject="Inbound call",
        ),
        activity_may_exist=False,
    )


async def test_write_record_first_attempt_patches_and_creates_without_reading(
    kustomer: Any,
) -> None:
    """The PATCH, the conversation and its note: no read of the customer, no look-up of the
    key, no look-up of notes on the conversation just created."""
    adapter, state = kustomer
    anna = state.find_customer("Anna Schmidt")
    state.requests.clear()
    ref = await adapter.write_record(_customer_write(anna["id"], {"notesStr": "VIP"}))
    assert [(m, p.split("?")[0]) for m, p in state.requests] == [
        ("PATCH", f"/v1/customers/{anna['id']}"),
        ("POST", "/v1/conversations"),
        ("POST", "/v1/notes"),
    ]
    assert ref is not None and ref.created and ref.type == "conversation"
    assert state.resources["customer"][anna["id"]]["attributes"]["custom"]["notesStr"] == "VIP"


async def test_write_record_reads_the_customer_first_only_to_keep_its_other_numbers(
    kustomer: Any,
) -> None:
    adapter, state = kustomer
    anna = state.find_customer("Anna Schmidt")
    numbers_before = [  # her other numbers, which the PATCH must keep
        p for p in anna["attributes"]["phones"] if p.get("type") != "mobile"
    ]
    assert numbers_before
    state.requests.clear()
    await adapter.write_record(_customer_write(anna["id"], {"mobile": "+49 171 5550000"}))
    assert [m for m, _ in state.requests] == ["GET", "PATCH", "POST", "POST"]
    phones = state.resources["customer"][anna["id"]]["attributes"]["phones"]
    assert {"type": "mobile", "phone": "+49 171 5550000"} in phones
    assert all(p in phones for p in numbers_before)


async def test_write_record_with_a_refused_attribute_names_it_and_links_nothing(
    kustomer: Any,
) -> None:
    adapter, state = kustomer
    anna = state.find_customer("Anna Schmidt")
    conversations = len(state.resources["conversation"])
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(_customer_write(anna["id"], {"unknownStr": "x"}))
    assert caught.value.field == "unknownStr" and caught.value.vendor_status == 400
    assert len(state.resources["conversation"]) == conversations


async def test_write_record_throttled_is_a_rate_limit_error(kustomer: Any) -> None:
    adapter, state = kustomer
    anna = state.find_customer("Anna Schmidt")
    state.throttle.append({"Retry-After": "5"})
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_record(_customer_write(anna["id"], {"notesStr": "VIP"}))
    assert caught.value.retry_after == 5.0
