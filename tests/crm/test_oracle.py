"""The Oracle B2C Service adapter against its simulator: auth, throttling, paging, timeline."""

from __future__ import annotations

from typing import Any

import pytest

from crm.errors import (
    CrmAuthError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.models import PhoneSearch, RecordWrite, TextSearch, TimelineActivity
from tests.crm.dataset import ANI_ONE_MATCH
from tests.crm.sim_oracle import CLIENT_ID, CLIENT_SECRET
from tests.crm.test_oracle_contract import start_oracle

OAUTH = {"auth": "oauth", "secrets": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}}


@pytest.fixture
async def oracle(aiohttp_server: Any) -> Any:
    adapter, state, http = await start_oracle(aiohttp_server)
    yield adapter, state
    await adapter.aclose()
    await http.aclose()


async def test_oauth_token_is_reused_and_refreshed_once_when_expired(
    aiohttp_server: Any,
) -> None:
    adapter, state, http = await start_oracle(aiohttp_server, **OAUTH)
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    await adapter.get("contact", anna.id)
    assert state.token_requests == 1
    state.expire_tokens()
    assert (await adapter.get("contact", anna.id)).title == "Anna Schmidt"
    assert state.token_requests == 2
    await adapter.aclose()
    await http.aclose()


async def test_wrong_password_is_an_auth_error_without_the_password(
    aiohttp_server: Any,
) -> None:
    adapter, _, http = await start_oracle(
        aiohttp_server, secrets={"username": "cc_integration", "password": "not-it-42"}
    )
    with pytest.raises(CrmAuthError) as caught:
        await adapter.check()
    assert "OSC-CREST-00014" in (caught.value.vendor_message or "")
    assert "not-it-42" not in str(caught.value.to_json())
    await http.aclose()


async def test_throttling_reports_the_wait_in_seconds(oracle: Any) -> None:
    adapter, state = oracle
    state.throttle.append(2500)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.search(TextSearch(text="Weber"))
    assert caught.value.retry_after == 2.5


async def test_an_advised_pause_is_honoured_before_the_next_call(oracle: Any) -> None:
    adapter, state = oracle
    state.advise_pause_ms = 30_000
    await adapter.check()
    sent = len(state.requests)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.search(TextSearch(text="Weber"))
    assert caught.value.retry_after is not None and 25 < caught.value.retry_after <= 30
    assert len(state.requests) == sent  # nothing was sent during the pause


async def test_a_short_advised_pause_is_waited_out(oracle: Any) -> None:
    adapter, state = oracle
    state.advise_pause_ms = 50
    await adapter.check()
    assert [r.title for r in await adapter.search(TextSearch(text="Weber"))] == ["Jonas Weber"]


async def test_the_session_access_token_is_sent_back(oracle: Any) -> None:
    adapter, state = oracle
    await adapter.check()
    await adapter.check()
    assert state.echoed_access_tokens == 1


async def test_server_error_and_timeout_are_unavailable(aiohttp_server: Any) -> None:
    adapter, state, http = await start_oracle(aiohttp_server, timeout=0.2)
    state.failures.append(500)
    with pytest.raises(CrmUnavailableError) as failed:
        await adapter.check()
    assert "OSC-CREST-00008" in (failed.value.vendor_message or "")
    state.delay = 0.5
    with pytest.raises(CrmUnavailableError) as slow:
        await adapter.check()
    assert slow.value.timed_out
    await http.aclose()


async def test_search_follows_the_next_link(oracle: Any) -> None:
    adapter, state = oracle
    for _ in range(130):
        state.add_contact("Pat", "Pager", None, [], None)
    found = await adapter.search(TextSearch(text="Pager", limit=120))
    assert len(found) == 120
    assert any("offset=100" in path for _, path in state.requests)


async def test_a_semicolon_never_reaches_oracle(oracle: Any) -> None:
    adapter, state = oracle
    assert await adapter.search(TextSearch(text="Weber; SELECT id FROM accounts")) == []
    assert state.requests == []


async def test_timeline_on_an_incident_is_one_thread_note_per_key(oracle: Any) -> None:
    adapter, state = oracle
    incident_id = next(iter(state.data["incidents"]))
    activity = TimelineActivity(
        key="int-3:incident:x",
        record_type="incident",
        record_id=str(incident_id),
        subject="Inbound call",
    )
    first = await adapter.add_timeline(activity)
    again = await adapter.add_timeline(activity)
    notes = [
        t
        for t in state.data["incidents"][incident_id]["threads"]
        if "[customer-card:int-3" in t["text"]
    ]
    assert len(notes) == 1 and notes[0]["entryType"] == {"lookupName": "Note"}
    assert (first.created, again.created, again.id) == (True, False, first.id)


def _incident_write(
    incident_id: int, fields: dict[str, Any], *, activity_may_exist: bool = False
) -> RecordWrite:
    return RecordWrite(
        record_type="incident",
        record_id=str(incident_id),
        fields=fields,
        activity=TimelineActivity(
            key=f"int-9:incident:{incident_id}",
            record_type="incident",
            record_id=str(incident_id),
            subject="Inbound call",
        ),
        activity_may_exist=activity_may_exist,
    )


def _our_notes(state: Any, incident_id: int) -> list[dict[str, Any]]:
    threads = state.data["incidents"][incident_id]["threads"]
    return [t for t in threads if "[customer-card:int-9" in t["text"]]


async def test_write_record_on_an_incident_is_one_patch_with_the_values_and_the_thread(
    oracle: Any,
) -> None:
    adapter, state = oracle
    incident_id = next(iter(state.data["incidents"]))
    state.requests.clear()
    ref = await adapter.write_record(_incident_write(incident_id, {"subject": "Called back"}))
    assert [method for method, _ in state.requests] == ["PATCH"]
    assert state.requests[0][1].endswith(f"/incidents/{incident_id}")
    assert state.data["incidents"][incident_id]["subject"] == "Called back"
    assert len(_our_notes(state, incident_id)) == 1
    assert ref is not None and ref.created and ref.type == "thread"
    # a retry finds the entry: the values are written again, no second entry
    state.requests.clear()
    again = await adapter.write_record(
        _incident_write(incident_id, {"subject": "Called back"}, activity_may_exist=True)
    )
    assert [method for method, _ in state.requests] == ["GET", "PATCH"]
    assert again is not None and again.created is False
    assert again.id == str(_our_notes(state, incident_id)[0]["id"])
    assert len(_our_notes(state, incident_id)) == 1


async def test_write_record_with_a_refused_value_adds_no_thread(oracle: Any) -> None:
    """The values and the thread entry are one request: a value Oracle refuses keeps the
    entry out too. A field the incident does not have is refused before any request."""
    adapter, state = oracle
    incident_id = next(iter(state.data["incidents"]))
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(_incident_write(incident_id, {"organization": "999999"}))
    assert caught.value.vendor_status == 400
    assert "organization 999999 does not exist" in (caught.value.vendor_message or "")
    assert _our_notes(state, incident_id) == []
    state.requests.clear()
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(_incident_write(incident_id, {"severityZz": "high"}))
    assert caught.value.field == "severityZz" and state.requests == []


async def test_write_record_throttled_is_a_rate_limit_error_and_writes_nothing(
    oracle: Any,
) -> None:
    adapter, state = oracle
    incident_id = next(iter(state.data["incidents"]))
    state.throttle.append(4000)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_record(_incident_write(incident_id, {"subject": "Called back"}))
    assert caught.value.retry_after == 4.0 and caught.value.vendor_status == 429
    assert state.data["incidents"][incident_id]["subject"] == "Delivery delayed"
    assert _our_notes(state, incident_id) == []


async def test_related_lists_incidents_and_colleagues(oracle: Any) -> None:
    adapter, _ = oracle
    lena = (await adapter.search(TextSearch(text="Lena Fischer")))[0]
    assert [r.title for r in await adapter.related(lena)] == ["Paul Fischer"]
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    assert [(r.type, r.title) for r in await adapter.related(anna)] == [
        ("incident", "Delivery delayed")
    ]


async def test_phone_search_checks_every_phone_entry(oracle: Any) -> None:
    """Issue #14: a contact found by a later phone entry (a second office number, an
    assistant or home phone) was dropped by the re-check of the first office and mobile
    number only."""
    adapter, state = oracle
    state.add_contact(
        "Ida",
        "Brandt",
        None,
        [("+49 40 5550130", 0), ("(040) 5550131", 0), ("0160 5550132", 1), ("040/5550134", 4)],
        None,
    )
    for ani in ("+49405550131", "+49405550134", "0405550131", "+491605550132"):
        found = await adapter.search(PhoneSearch(number=ani))
        assert [r.title for r in found] == ["Ida Brandt"], ani
    assert await adapter.search(PhoneSearch(number="+43 40 5550131")) == []
