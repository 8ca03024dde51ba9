"""NICE CXone: Studio REST calls in the commercial anchor's request shape (bearer token)
-> our workflows run, one card for the mapped agent and one memorialization, also when
Studio retries a call."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.connectors.cxone import CxoneWorkflowCall, cxone_events, execute_request
from bot.connectors.cxone_search import custom_search
from bot.connectors.models import CxoneSettings
from crm.errors import InputError
from tests.bot.cardtools import texts

from .harness import ANNA_AGENT, CALLER, Stack, fixture

TOKEN = "cxone-studio-token-0001"
CALLS = fixture("cxone_studio_calls.json")["calls"]
INTERACTION = CALLS["search"]["interactionID"]


def call(name: str) -> dict[str, Any]:
    return copy.deepcopy(CALLS[name])


async def workflow_ids(stack: Stack) -> dict[str, str]:
    status, body = await stack.admin(
        "GET", f"/api/v1/configurations/{stack.configuration_id}/workflows"
    )
    assert status == 200
    return {w["workflowAction"]: w["workflowId"] for w in reversed(body["workflows"])}


async def send(
    stack: Stack, workflow_id: str, body: dict[str, Any], token: str = TOKEN
) -> tuple[int, Any]:
    path = (
        f"/api/v1/connectors/nice-cxone/configuration/{stack.configuration_id}"
        f"/workflow/{workflow_id}"
    )
    response = await stack.bot.client.post(
        path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status, await response.json()


async def connect(stack: Stack) -> None:
    await stack.connect(
        "nice-cxone",
        {"secrets": {"api_key": TOKEN}, "agents": {"1234567": "Alex.Agent@contoso.example"}},
    )


def test_the_anchors_calls_translate() -> None:
    search = CxoneWorkflowCall.model_validate(call("search"))
    [started] = cxone_events(search, "cfg", CxoneSettings())
    assert started.event.type == "started" and started.event.interaction_id == INTERACTION
    assert started.event.data["ANI"] == "+49301234567"
    request = execute_request(search, "cfg", "wf-1")
    assert request is not None and request.payload.workflow_input.phone_number == "+49301234567"
    memo = CxoneWorkflowCall.model_validate(call("data_memorialization"))
    types = [e.event.type for e in cxone_events(memo, "cfg", CxoneSettings())]
    assert types == ["started", "ended", "acw_completed"]
    assert execute_request(memo, "cfg", "wf-2") is None
    # a Studio retry is the same events
    again = cxone_events(memo, "cfg", CxoneSettings())
    assert [e.platform_event_id for e in again] == [
        e.platform_event_id for e in cxone_events(memo, "cfg", CxoneSettings())
    ]


def test_custom_search_filters_of_each_crm() -> None:
    [sf] = custom_search([{"entity": "Contact", "filter": "LastName='Schmidt' or Phone!=1"}])
    assert sf["condition"] == "or" and sf["columns"][1] == {
        "field": "Phone",
        "operator": "notequals",
        "value": "1",
    }
    [snow] = custom_search([{"entity": "case", "filter": "state=1^priority!=2"}])
    assert snow["condition"] == "and" and len(snow["columns"]) == 2
    [dyn] = custom_search([{"entity": "contact", "filter": "lastname eq 'Schmidt'"}])
    assert dyn["columns"] == [{"field": "lastname", "operator": "equals", "value": "Schmidt"}]
    [zd] = custom_search([{"entity": "user", "filter": "name:Anna email:a@b.example"}])
    assert [c["field"] for c in zd["columns"]] == ["name", "email"]
    hubspot = {
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "NEQ", "value": "x"}]}]
    }
    [hs] = custom_search([{"entity": "contacts", "filter": hubspot}])
    assert hs["columns"][0]["operator"] == "notequals"
    with pytest.raises(InputError) as caught:
        custom_search([{"entity": "contact", "filter": "a=1 and b=2 or c=3"}])
    assert caught.value.field == "workflowInput.search[0].filter"


async def test_wrong_or_missing_token_is_401(stack: Stack) -> None:
    await connect(stack)
    ids = await workflow_ids(stack)
    status, body = await send(stack, ids["Search"], call("search"), token="wrong-token-0000")
    assert (status, body["error"]) == (401, "unauthorized")
    status, body = await send(stack, ids["Search"], {"action": "Search"}, token="")
    assert status == 401


async def test_a_studio_call_sequence_makes_one_card_and_one_memorialization(
    stack: Stack,
) -> None:
    await connect(stack)
    ids = await workflow_ids(stack)
    # in the IVR, before an agent has the contact: results only
    status, body = await send(stack, ids["Search"], call("ivr_search"))
    assert status == 200, body
    assert any(CALLER in r["display"] for r in body["result"][0]["records"])
    for _ in range(2):  # Studio retries the REST action
        status, body = await send(stack, ids["Search"], call("search"))
        assert status == 200, body
    card = await stack.bot.card_for(ANNA_AGENT)
    assert CALLER in texts(card)
    status, body = await send(stack, ids["Search"], call("custom_search"))
    assert status == 200, body
    for _ in range(2):
        status, body = await send(stack, ids["DataMemorialization"], call("data_memorialization"))
        assert status == 200, body
    await stack.memorialized_once(INTERACTION)
    assert stack.cards_posted(ANNA_AGENT) == 1
    status, body = await send(stack, ids["Search"], {**call("search"), "action": "relatesTo"})
    assert (status, body["field"]) == (400, "action")


async def test_an_unknown_workflow_is_404(stack: Stack) -> None:
    await connect(stack)
    status, body = await send(stack, "wf-unknown", call("search"))
    assert status == 404, body
