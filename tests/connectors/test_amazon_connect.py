"""Amazon Connect: contact events as an EventBridge API destination delivers them (with
its connection's API key header, or an OAuth client-credentials token), the caller's
number and the agent's identity from the Amazon Connect API (SigV4-signed, a local
stand-in) -> one card for the agent and one memorialization, with retries and reordering."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from bot.connectors.amazon_connect import (
    ContactDetails,
    parse_contact_event,
    translate_contact_event,
)
from bot.connectors.models import AmazonConnectSettings
from tests.bot.activities import BOB_AGENT
from tests.bot.cardtools import texts

from .harness import ANNA_AGENT, CALLER, NOTES, Stack, fixture
from .sim_amazon_connect import ACCESS_KEY, SECRET_KEY, ConnectApiSim

PATH = "/api/v1/connectors/amazon-connect/events"
API_KEY = "eventbridge-api-key-0001"
PAYLOADS = fixture("amazon_connect_events.json")
INSTANCE = PAYLOADS["events"]["INITIATED"]["detail"]["instanceArn"]
CONTACT = PAYLOADS["events"]["INITIATED"]["detail"]["contactId"]
SETTINGS = AmazonConnectSettings(instance_arn=INSTANCE)


def event(name: str) -> dict[str, Any]:
    return copy.deepcopy(PAYLOADS["events"][name])


@pytest.fixture
async def connect_api(aiohttp_server) -> ConnectApiSim:  # type: ignore[no-untyped-def]
    sim = ConnectApiSim(copy.deepcopy(PAYLOADS["api"]))
    sim.server = await aiohttp_server(sim.app())  # type: ignore[attr-defined]
    return sim


async def setup(stack: Stack, sim: ConnectApiSim, **settings: Any) -> None:
    await stack.connect(
        "amazon-connect",
        {
            "settings": {
                "instance_arn": INSTANCE,
                "api_base": str(sim.server.make_url("")).rstrip("/"),  # type: ignore[attr-defined]
                **settings,
            },
            "secrets": {
                "api_key": API_KEY,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": SECRET_KEY,
            },
        },
    )


async def deliver(stack: Stack, body: dict[str, Any], **headers: str) -> tuple[int, Any]:
    response = await stack.bot.client.post(
        PATH, json=body, headers=headers or {"x-api-key": API_KEY}
    )
    return response.status, await response.json()


def test_translation_and_the_missing_parts_from_the_api() -> None:
    connected = parse_contact_event(event("CONNECTED_TO_AGENT"))
    assert connected is not None
    details = ContactDetails(
        customer_address="+49301234567", queue_name="Support DE", agent_email="a@b.example"
    )
    [translated] = translate_contact_event(connected, details, SETTINGS)
    assert translated.platform_event_id == "6f9e1a6c-0b1d-4a5e-9a11-000000000003"
    item = translated.event
    assert (item.type, item.interaction_id, item.contact_id) == ("started", CONTACT, CONTACT)
    assert item.data["ANI"] == "+49301234567" and item.data["Skill Name"] == "Support DE"
    assert item.agent is not None and item.agent.id == "eeeeeeee-ffff-0000-1111-000000000001"
    # the flow's attribute wins over the endpoint
    flow = ContactDetails(attributes={"customerNumber": "+4930999"}, customer_address="+4930111")
    [translated] = translate_contact_event(connected, flow, SETTINGS)
    assert translated.event.data["ANI"] == "+4930999"
    disconnected = parse_contact_event(event("DISCONNECTED"))
    assert disconnected is not None
    [ended] = translate_contact_event(disconnected, ContactDetails(), SETTINGS)
    assert (ended.event.type, ended.event.data["ACW"]) == ("ended", True)
    assert parse_contact_event({**event("INITIATED"), "detail-type": "Other"}) is None


async def test_wrong_or_missing_api_key_is_401(stack: Stack, connect_api: ConnectApiSim) -> None:
    await setup(stack, connect_api)
    status, body = await deliver(stack, event("INITIATED"), **{"x-api-key": "wrong-key-0000"})
    assert (status, body["error"]) == (401, "unauthorized")
    response = await stack.bot.client.post(PATH, json=event("INITIATED"))
    assert response.status == 401


async def test_oauth_client_credentials_as_eventbridge_uses_them(
    stack: Stack, connect_api: ConnectApiSim
) -> None:
    status, answer = await stack.admin(
        "PUT",
        "/api/v1/connectors/amazon-connect",
        {
            "settings": {"instance_arn": INSTANCE, "auth": "oauth"},
            "secrets": {"client_id": "eventbridge", "client_secret": "s3cr3t-client-secret"},
        },
    )
    assert status == 201, answer
    assert answer["secrets"]["client_secret"] == {"set": True, "kind": "literal", "reference": None}
    assert "s3cr3t" not in str(answer)
    token_path = "/api/v1/connectors/amazon-connect/oauth/token"
    basic = base64.b64encode(b"eventbridge:s3cr3t-client-secret").decode()
    response = await stack.bot.client.post(
        token_path,
        data="grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}"},
    )
    token = (await response.json())["access_token"]
    bad = base64.b64encode(b"eventbridge:wrong").decode()
    response = await stack.bot.client.post(token_path, headers={"Authorization": f"Basic {bad}"})
    assert response.status == 401
    status, body = await deliver(stack, event("INITIATED"), Authorization=f"Bearer {token}")
    assert status == 200 and body["waiting"] == 1, body
    status, body = await deliver(stack, event("QUEUED"), Authorization="Bearer not-a-token")
    assert status == 401


async def test_api_unreachable_is_502_and_the_retry_is_taken(
    stack: Stack, connect_api: ConnectApiSim
) -> None:
    await setup(stack, connect_api, api_base="http://127.0.0.1:9")
    status, body = await deliver(stack, event("CONNECTED_TO_AGENT"))
    assert (status, body["error"]) == (502, "platform_unavailable")
    await setup(stack, connect_api)
    status, body = await deliver(stack, event("CONNECTED_TO_AGENT"))
    assert status == 200 and body["applied"] == ["started"], body


async def test_retried_and_reordered_events_make_one_card_and_one_memorialization(
    stack: Stack, connect_api: ConnectApiSim
) -> None:
    await setup(stack, connect_api)
    status, body = await deliver(stack, event("DISCONNECTED"))  # before the agent's
    assert status == 200 and body["waiting"] == 1, body
    status, body = await deliver(stack, event("QUEUED"))
    assert status == 200 and body["waiting"] == 2, body
    for _ in range(2):  # EventBridge retries
        status, body = await deliver(stack, event("CONNECTED_TO_AGENT"))
        assert status == 200, body
    card = await stack.bot.card_for(ANNA_AGENT)
    assert CALLER in texts(card) and "Support DE" in str(card)
    # the agent's notes, written to the contact's attributes in after-contact work
    connect_api.api["attributes"]["Attributes"]["dispositionNotes"] = NOTES
    for _ in range(2):
        status, body = await deliver(stack, event("COMPLETED"))
        assert status == 200, body
    status, body = await deliver(stack, event("INITIATED"))  # late: changes nothing
    assert status == 200
    await stack.memorialized_once(CONTACT)
    assert stack.cards_posted(ANNA_AGENT) == 1
    assert connect_api.refused == 0 and "user" in connect_api.calls


async def test_a_transfer_is_a_new_contact_of_the_chain(
    stack: Stack, connect_api: ConnectApiSim
) -> None:
    await setup(stack, connect_api)
    await stack.bot.install(BOB_AGENT)
    bea_id = "eeeeeeee-ffff-0000-1111-000000000002"
    connect_api.api["users"] = {
        bea_id: {
            "User": {
                "Id": bea_id,
                "Username": "bea.berater",
                "IdentityInfo": {
                    "FirstName": "Bea",
                    "LastName": "Berater",
                    "Email": BOB_AGENT.email,
                },
            }
        }
    }
    second = "aaaaaaaa-bbbb-cccc-dddd-000000000002"

    def leg2(name: str, event_id: str, at: str, **detail: Any) -> dict[str, Any]:
        body = event(name)
        body["id"], body["time"] = event_id, at
        body["detail"].update(contactId=second, previousContactId=CONTACT, **detail)
        if "agentInfo" in body["detail"]:
            body["detail"]["agentInfo"]["agentArn"] = (
                body["detail"]["agentInfo"]["agentArn"].rsplit("/", 1)[0] + f"/{bea_id}"
            )
        return body

    def leg1(name: str, event_id: str, at: str) -> dict[str, Any]:
        body = event(name)
        body["id"], body["time"] = event_id, at
        return body

    assert (await deliver(stack, event("CONNECTED_TO_AGENT")))[0] == 200
    await stack.bot.card_for(ANNA_AGENT)
    # Alex transfers to Bea: a new contact (INITIATED, method TRANSFER) of the same chain
    sequence = [
        leg2("INITIATED", "t-1", "2025-01-01T10:02:00Z", initiationMethod="TRANSFER"),
        leg2("CONNECTED_TO_AGENT", "t-2", "2025-01-01T10:02:20Z", initiationMethod="TRANSFER"),
        leg1("DISCONNECTED", "t-3", "2025-01-01T10:02:01Z"),  # later than Bea's, by delivery
        leg1("COMPLETED", "t-4", "2025-01-01T10:03:00Z"),
    ]
    for body in sequence:
        status, answer = await deliver(stack, body)
        assert status == 200, answer
    card = await stack.bot.card_for(BOB_AGENT)
    assert CALLER in texts(card)
    connect_api.api["attributes"]["Attributes"]["dispositionNotes"] = NOTES
    for body in (
        leg2("DISCONNECTED", "t-5", "2025-01-01T10:08:00Z"),
        leg2("COMPLETED", "t-6", "2025-01-01T10:09:00Z"),
    ):
        assert (await deliver(stack, body))[0] == 200
    await stack.memorialized_once(CONTACT)
    assert stack.cards_posted(ANNA_AGENT) == 1 and stack.cards_posted(BOB_AGENT) == 1


async def test_basic_authorization_and_another_instance(
    stack: Stack, connect_api: ConnectApiSim
) -> None:
    status, answer = await stack.admin(
        "PUT",
        "/api/v1/connectors/amazon-connect",
        {
            "settings": {"instance_arn": INSTANCE, "auth": "basic"},
            "secrets": {"username": "eventbridge", "password": "basic-password-0001"},
        },
    )
    assert status == 201, answer
    good = "Basic " + base64.b64encode(b"eventbridge:basic-password-0001").decode()
    bad = "Basic " + base64.b64encode(b"eventbridge:other").decode()
    assert (await deliver(stack, event("INITIATED"), Authorization=bad))[0] == 401
    status, body = await deliver(stack, event("INITIATED"), Authorization=good)
    assert status == 200 and body["waiting"] == 1, body
    other = event("QUEUED")
    other["detail"]["instanceArn"] = INSTANCE.replace("111122223333", "999999999999")
    status, body = await deliver(stack, other, Authorization=good)
    assert (status, body["field"]) == (400, "detail.instanceArn")
