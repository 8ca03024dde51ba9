"""The shared CRM contract, run against the Kustomer adapter and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm.registry import AdapterContext, create_adapter
from tests.crm.contract import CrmContract
from tests.crm.harness import Harness
from tests.crm.sim_kustomer import API_KEY, KustomerState, create_app


async def start_kustomer(aiohttp_server: Any, **settings: Any) -> tuple[Any, KustomerState, Any]:
    """Simulator, its state and an adapter pointed at it."""
    state = KustomerState()
    state.seed()
    server = await aiohttp_server(create_app(state))
    http = httpx.AsyncClient(timeout=settings.pop("timeout", 5.0))
    secrets = settings.pop("secrets", {"api_key": API_KEY})
    context = AdapterContext(
        configuration_id="cfg-kustomer",
        type="kustomer",
        label="Kustomer",
        settings={"org": "acme", "api_base": str(server.make_url("/v1")), **settings},
        secrets=secrets,
        http=http,
    )
    return create_adapter(context), state, http


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[Harness]:
    adapter, state, http = await start_kustomer(aiohttp_server)
    anna = state.find_customer("Anna Schmidt")

    async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
        return state.resources[record_type].get(record_id)

    async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
        if record_type == "conversation":
            return [
                n
                for n in state.resources["note"].values()
                if n["relationships"]["conversation"]["data"]["id"] == record_id
            ]
        return [
            c
            for c in state.resources["conversation"].values()
            if c["relationships"]["customer"]["data"]["id"] == record_id
            and c["attributes"].get("externalId")
        ]

    yield Harness(
        adapter=adapter,
        contact_type="customer",
        case_type="conversation",
        # identifiers in emails/phones are unique per org; a shared phone may repeat
        new_contact={"name": "Eva Klein", "sharedPhone": "+49 40 7654321"},
        new_case={
            "customer": anna["id"],
            "name": "Callback requested",
            "summaryTxt": "Please call back.",
        },
        updatable_contact_field="notesStr",
        stored=stored,
        timeline_for=timeline_for,
        settings_bounds={"timeline_conversation_status": ("snoozed", ["closed", "Done"])},
        # customer: the PATCH, the conversation, its note; conversation: the PATCH, the note
        # (no Kustomer request updates a record and adds a note)
        write_requests=(3, 2),
        updatable_case_field="name",
        misanswer_lookups=lambda: state.unfiltered.add("conversations"),
        phone_fields=("phone", "mobile"),
    )
    await adapter.aclose()
    await http.aclose()


class TestKustomerContract(CrmContract):
    pass
