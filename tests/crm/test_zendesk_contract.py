"""The shared CRM contract, run against the Zendesk adapter and its simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crm.registry import AdapterContext, create_adapter
from tests.crm.contract import CrmContract
from tests.crm.harness import Harness
from tests.crm.sim_zendesk import CLIENT_ID, CLIENT_SECRET, ZendeskState, create_app


async def start_zendesk(aiohttp_server: Any, **settings: Any) -> tuple[Any, ZendeskState, Any]:
    """Simulator, its state and an adapter pointed at it (OAuth unless settings say so)."""
    state = ZendeskState()
    state.seed()
    server = await aiohttp_server(create_app(state))
    base = str(server.make_url("")).rstrip("/")
    http = httpx.AsyncClient(timeout=settings.pop("timeout", 5.0))
    secrets = settings.pop("secrets", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    context = AdapterContext(
        configuration_id="cfg-zendesk",
        type="zendesk",
        label="Zendesk",
        settings={
            "subdomain": "acme",
            "api_base": f"{base}/api/v2",
            "token_url": f"{base}/oauth/tokens",
            "phone_fields": ["mobile"],
            **settings,
        },
        secrets=secrets,
        http=http,
    )
    return create_adapter(context), state, http


@pytest.fixture
async def harness(aiohttp_server: Any) -> AsyncIterator[Harness]:
    adapter, state, http = await start_zendesk(aiohttp_server)

    async def stored(record_type: str, record_id: str) -> dict[str, Any] | None:
        pool = {"user": state.users, "ticket": state.tickets, "organization": state.organizations}[
            record_type
        ]
        return pool.get(int(record_id)) if record_id.isdigit() else None

    async def timeline_for(record_type: str, record_id: str) -> list[dict[str, Any]]:
        if record_type == "ticket":
            return [
                c for c in state.comments.get(int(record_id), []) if "[customer-card:" in c["body"]
            ]
        owner = "requester_id" if record_type == "user" else "organization_id"
        return [
            t
            for t in state.tickets.values()
            if t.get(owner) == int(record_id) and t.get("external_id")
        ]

    yield Harness(
        adapter=adapter,
        contact_type="user",
        case_type="ticket",
        # no email: Zendesk keeps emails unique and the suite creates this contact often
        new_contact={"name": "Eva Klein", "phone": "+49 40 7654321"},
        new_case={"subject": "Callback requested", "description": "Please call back."},
        updatable_contact_field="notes",
        stored=stored,
        timeline_for=timeline_for,
        settings_bounds={
            "token_expires_in": (301, [300, 172_801]),
            "timeline_ticket_status": ("hold", ["done", "Open"]),
        },
        # a user: its PUT, then the ticket recording the activity; a ticket: one PUT with
        # the values and the internal note
        write_requests=(2, 1),
        updatable_case_field="custom_field_360001",
        misanswer_lookups=lambda: state.unfiltered.add("tickets"),
        phone_fields=("phone", "mobile"),
    )
    await adapter.aclose()
    await http.aclose()


class TestZendeskContract(CrmContract):
    pass
