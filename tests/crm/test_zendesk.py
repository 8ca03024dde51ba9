"""The Zendesk adapter against its simulator: auth, throttling, failures, paging, timeline."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from crm.errors import (
    ConfigError,
    CrmAuthError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.models import FieldType, PhoneSearch, RecordWrite, TextSearch, TimelineActivity
from tests.crm.dataset import ANI_ONE_MATCH
from tests.crm.sim_zendesk import API_EMAIL, API_TOKEN, NOW, TOKEN_LIFETIME_MIN
from tests.crm.test_zendesk_contract import start_zendesk


@pytest.fixture
async def zendesk(aiohttp_server: Any) -> Any:
    adapter, state, http = await start_zendesk(aiohttp_server)
    yield adapter, state
    await adapter.aclose()
    await http.aclose()


async def test_token_is_minted_once_and_reused(zendesk: Any) -> None:
    adapter, state = zendesk
    await adapter.search(PhoneSearch(number=ANI_ONE_MATCH))
    await adapter.search(TextSearch(text="Weber"))
    assert len(state.token_requests) == 1
    assert state.token_requests[0]["grant_type"] == "client_credentials"


async def test_expired_token_is_refreshed_once_and_the_call_retried(zendesk: Any) -> None:
    adapter, state = zendesk
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    state.expire_tokens()
    again = await adapter.get("user", anna.id)
    assert again.title == "Anna Schmidt"
    assert len(state.token_requests) == 2


async def test_refused_client_credentials_are_an_auth_error_without_the_secret(
    aiohttp_server: Any,
) -> None:
    adapter, _, http = await start_zendesk(
        aiohttp_server, secrets={"client_id": "customer_card", "client_secret": "wrong-one"}
    )
    with pytest.raises(CrmAuthError) as caught:
        await adapter.check()
    assert "invalid_client" in (caught.value.vendor_message or "")
    assert "wrong-one" not in str(caught.value.to_json()) + str(caught.value.vendor_message)
    await adapter.aclose()
    await http.aclose()


async def test_api_token_auth_works_and_warns_about_the_sunset(
    aiohttp_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crm.adapters.zendesk"):
        adapter, state, http = await start_zendesk(
            aiohttp_server, auth="api_token", email=API_EMAIL, secrets={"api_token": API_TOKEN}
        )
    assert "2027-04-30" in caplog.text and API_TOKEN not in caplog.text
    await adapter.check()
    assert state.token_requests == []
    await http.aclose()


async def test_throttling_is_a_rate_limit_error_with_the_wait(zendesk: Any) -> None:
    adapter, state = zendesk
    state.throttle.append(7)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.search(TextSearch(text="Weber"))
    assert caught.value.retry_after == 7
    assert caught.value.retryable


async def test_server_error_and_timeout_are_unavailable(aiohttp_server: Any) -> None:
    adapter, state, http = await start_zendesk(aiohttp_server, timeout=0.2)
    await adapter.check()
    state.failures.append(503)
    with pytest.raises(CrmUnavailableError) as failed:
        await adapter.search(TextSearch(text="Weber"))
    assert failed.value.vendor_status == 503 and not failed.value.timed_out
    state.delay = 0.5
    with pytest.raises(CrmUnavailableError) as slow:
        await adapter.search(TextSearch(text="Weber"))
    assert slow.value.timed_out
    await adapter.aclose()
    await http.aclose()


async def test_search_follows_next_page(zendesk: Any) -> None:
    adapter, state = zendesk
    for n in range(130):
        uid = state.new_id()
        state.users[uid] = {
            "id": uid,
            "name": f"Pager Person {n}",
            "email": None,
            "phone": None,
            "updated_at": NOW,
        }
    found = await adapter.search(TextSearch(text="Pager", limit=120))
    assert len(found) == 120
    assert any("page=2" in path for _, path in state.requests)


async def test_related_follows_cursor_links(zendesk: Any) -> None:
    adapter, state = zendesk
    anna = (await adapter.search(PhoneSearch(number=ANI_ONE_MATCH)))[0]
    for n in range(104):
        tid = state.new_id()
        state.tickets[tid] = {
            "id": tid,
            "subject": f"Old {n}",
            "requester_id": int(anna.id),
            "status": "closed",
            "updated_at": NOW,
        }
    related = await adapter.related(anna, limit=103)
    assert len(related) == 103 and all(r.type == "ticket" for r in related)
    assert any("page%5Bafter%5D" in path or "page[after]" in path for _, path in state.requests)


async def test_validation_errors_keep_zendesk_words(zendesk: Any) -> None:
    adapter, _ = zendesk
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.create("user", {"name": "Copy", "email": "anna.schmidt@example.de"})
    assert "already being used" in (caught.value.vendor_message or "")
    assert caught.value.vendor_status == 422


async def test_timeline_on_a_ticket_is_one_private_note_per_key(zendesk: Any) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    activity = TimelineActivity(
        key="int-1:ticket:x",
        record_type="ticket",
        record_id=str(ticket_id),
        subject="Inbound call",
        notes="x" * 70_000,
    )
    first = await adapter.add_timeline(activity)
    again = await adapter.add_timeline(activity)
    notes = [c for c in state.comments[ticket_id] if "[customer-card:int-1" in c["body"]]
    assert len(notes) == 1 and notes[0]["public"] is False
    assert len(notes[0]["body"]) <= 65_000
    assert (first.created, again.created, again.id) == (True, False, first.id)


def _ticket_write(
    ticket_id: int, key: str, fields: dict[str, Any], may_exist: bool = False
) -> RecordWrite:
    return RecordWrite(
        record_type="ticket",
        record_id=str(ticket_id),
        fields=fields,
        activity=TimelineActivity(
            key=key, record_type="ticket", record_id=str(ticket_id), subject="Inbound call"
        ),
        activity_may_exist=may_exist,
    )


def _notes(state: Any, ticket_id: int, key: str) -> list[dict[str, Any]]:
    return [c for c in state.comments[ticket_id] if f"[customer-card:{key}]" in c["body"]]


async def test_write_record_puts_a_tickets_values_and_note_in_one_update(zendesk: Any) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    sent = len(state.requests)
    ref = await adapter.write_record(
        _ticket_write(ticket_id, "int-2", {"custom_field_360001": "A-17", "priority": "high"})
    )
    assert state.requests[sent:] == [("PUT", f"/api/v2/tickets/{ticket_id}")]
    [note] = _notes(state, ticket_id, "int-2")
    assert note["public"] is False
    ticket = state.tickets[ticket_id]
    assert ticket["priority"] == "high"
    assert {"id": 360001, "value": "A-17"} in ticket["custom_fields"]
    assert ref is not None and (ref.id, ref.type, ref.created) == (
        str(note["id"]),
        "ticket_comment",
        True,
    )


async def test_write_record_retried_finds_the_note_and_still_writes_the_values(
    zendesk: Any,
) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    first = await adapter.write_record(_ticket_write(ticket_id, "int-3", {"priority": "low"}))
    sent = len(state.requests)
    again = await adapter.write_record(
        _ticket_write(ticket_id, "int-3", {"priority": "urgent"}, may_exist=True)
    )
    assert [m for m, _ in state.requests[sent:]] == ["GET", "PUT"]  # the look-up, the values
    assert again == first.model_copy(update={"created": False})
    assert len(_notes(state, ticket_id, "int-3")) == 1
    assert state.tickets[ticket_id]["priority"] == "urgent"


async def test_write_record_with_a_comment_among_the_values_adds_both(zendesk: Any) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    await adapter.write_record(_ticket_write(ticket_id, "int-4", {"comment": "Mapped summary"}))
    bodies = [c["body"] for c in state.comments[ticket_id]]
    assert bodies[-2] == "Mapped summary" and "[customer-card:int-4]" in bodies[-1]


async def test_write_record_to_a_closed_ticket_is_rejected_naming_the_field(
    zendesk: Any,
) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    state.tickets[ticket_id]["status"] = "closed"
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(_ticket_write(ticket_id, "int-5", {"priority": "high"}))
    assert (caught.value.field, caught.value.vendor_status) == ("status", 422)
    assert "closed prevents ticket update" in (caught.value.vendor_message or "")
    assert _notes(state, ticket_id, "int-5") == []
    assert state.tickets[ticket_id]["priority"] == "normal"


async def test_write_record_of_a_user_with_a_refused_value_names_the_field(
    zendesk: Any,
) -> None:
    adapter, state = zendesk
    anna = next(u for u in state.users.values() if u["name"] == "Anna Schmidt")
    tickets = len(state.tickets)
    with pytest.raises(CrmRejectedError) as caught:
        await adapter.write_record(
            RecordWrite(
                record_type="user",
                record_id=str(anna["id"]),
                fields={"name": ""},
                activity=TimelineActivity(
                    key="int-6", record_type="user", record_id=str(anna["id"]), subject="Call"
                ),
                activity_may_exist=False,
            )
        )
    assert caught.value.field == "name"
    assert len(state.tickets) == tickets  # the activity is not sent after a refused update


async def test_write_record_throttled_is_a_rate_limit_error_and_writes_nothing(
    zendesk: Any,
) -> None:
    adapter, state = zendesk
    ticket_id = next(iter(state.tickets))
    state.throttle.append(7)
    with pytest.raises(CrmRateLimitedError) as caught:
        await adapter.write_record(_ticket_write(ticket_id, "int-7", {"priority": "high"}))
    assert caught.value.retry_after == 7.0
    assert _notes(state, ticket_id, "int-7") == []
    assert state.tickets[ticket_id]["priority"] == "normal"


async def test_ticket_fields_come_from_zendesk_metadata(zendesk: Any) -> None:
    adapter, _ = zendesk
    fields = {f.name: f for f in await adapter.list_fields("ticket")}
    assert fields["custom_field_360002"].type == FieldType.LONG_TEXT
    assert fields["status"].options == ["open", "solved"]
    assert "custom_field_360003" not in fields  # inactive
    users = {f.name: f for f in await adapter.list_fields("user")}
    assert users["mobile"].custom and users["vip"].type == FieldType.BOOLEAN


async def test_record_urls_open_the_agent_ui(zendesk: Any) -> None:
    adapter, _ = zendesk
    assert adapter.record_url("user", "42") == "https://acme.zendesk.com/agent/users/42"
    assert adapter.record_url("ticket", "7") == "https://acme.zendesk.com/agent/tickets/7"


async def test_token_lifetime_is_asked_for_within_zendesks_bounds(aiohttp_server: Any) -> None:
    """Zendesk refuses a lifetime of 300 s or less: the configuration refuses it first."""
    with pytest.raises(ConfigError) as caught:
        await start_zendesk(aiohttp_server, token_expires_in=TOKEN_LIFETIME_MIN)
    assert caught.value.field == "settings.token_expires_in"
    adapter, state, http = await start_zendesk(
        aiohttp_server, token_expires_in=TOKEN_LIFETIME_MIN + 1
    )
    await adapter.check()
    assert [r.get("expires_in") for r in state.token_requests] == [TOKEN_LIFETIME_MIN + 1]
    await adapter.aclose()
    await http.aclose()
