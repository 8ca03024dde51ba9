"""Genesys Cloud: the service's own Notification API subscriber against a local stand-in
of Genesys' login (client credentials), channels, subscriptions and WebSocket; repeated
notifications, Genesys closing the channel and a dropped socket (the call ending while no
socket is up) -> one card for the agent and one memorialization."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from bot.connectors.genesys import topic_names, translate_conversation
from bot.connectors.supervisor import ConnectorSupervisor
from bot.services import SERVICES
from tests.bot.cardtools import texts

from .harness import ANNA_AGENT, CALLER, NOTES, Stack, fixture
from .sim_genesys import CLIENT_ID, CLIENT_SECRET, GenesysSim

PAYLOADS = fixture("genesys_conversation.json")
USER = PAYLOADS["user"]["id"]
CONVERSATION = PAYLOADS["conversation"]["id"]
TOPIC = f"v2.users.{USER}.conversations.calls"


def conversation(agent: dict[str, Any] | None = None, customer: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body = copy.deepcopy(PAYLOADS["conversation"])
    body["participants"][0].update(customer or {})
    body["participants"][1].update(agent or {})
    return body


CONNECTED = {"state": "connected", "connectedTime": "2025-01-01T10:00:30.000Z"}
ENDED = {
    **CONNECTED,
    "state": "disconnected",
    "endTime": "2025-01-01T10:05:00.000Z",
    "disconnectType": "client",
    "wrapup": {"code": "Resolved", "notes": NOTES, "durationSeconds": 70},
    "endAcwTime": "2025-01-01T10:06:10.000Z",
}
CUSTOMER_GONE = {"state": "disconnected", "endTime": "2025-01-01T10:05:00.000Z"}


@pytest.fixture
async def genesys(aiohttp_server) -> GenesysSim:  # type: ignore[no-untyped-def]
    sim = GenesysSim(users={USER: PAYLOADS["user"]})
    server = await aiohttp_server(sim.app())
    sim.base = str(server.make_url("")).rstrip("/")
    return sim


async def until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(20):  # a safety net, not a timed assertion
        while True:
            if condition():
                return
            await asyncio.sleep(0.02)


def test_translation_of_the_participants() -> None:
    assert translate_conversation(conversation()) == []  # alerting: nobody has it yet
    [started] = translate_conversation(conversation(CONNECTED), {USER: "a@b.example"})
    event = started.event
    assert (event.type, event.interaction_id, event.data["ANI"]) == (
        "started",
        CONVERSATION,
        "+49301234567",
    )
    assert event.agent is not None and event.agent.email == "a@b.example"
    assert event.script_variables == {"accountnumber": "4711"}
    types = [e.event.type for e in translate_conversation(conversation(ENDED))]
    assert types == ["started", "ended", "acw_completed"]
    assert topic_names("queues", ["q1"]) == ["v2.routing.queues.q1.conversations.calls"]
    transfer = {**ENDED, "disconnectType": "transfer", "wrapup": None}
    assert [e.event.type for e in translate_conversation(conversation(transfer))] == [
        "started",
        "updated",
    ]


async def test_subscriber_follows_the_call_through_reconnects(
    stack: Stack, genesys: GenesysSim
) -> None:
    await stack.connect(
        "genesys-cloud",
        {
            "settings": {
                "api_base": genesys.base,
                "login_base": genesys.base,
                "topics": "users",
                "ids": [USER],
            },
            "secrets": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        },
    )
    supervisor: ConnectorSupervisor = stack.bot.client.server.app[SERVICES].connector_supervisor
    await until(lambda: supervisor.subscriber is not None, "subscriber started")
    subscriber = supervisor.subscriber
    assert subscriber is not None
    await asyncio.wait_for(subscriber.connected.wait(), 20)
    assert genesys.subscriptions[genesys.channel] == [TOPIC]

    await genesys.push(USER, conversation())  # alerting
    for _ in range(2):  # the same state notified twice
        await genesys.push(USER, conversation(CONNECTED))
    await genesys.heartbeat()
    card = await stack.bot.card_for(ANNA_AGENT)
    assert CALLER in texts(card)

    # Genesys closes the channel: a new channel with the same subscriptions
    await genesys.close_channel()
    await until(lambda: subscriber.sessions == 2 and subscriber.connected.is_set(), "2nd")
    assert genesys.subscriptions[genesys.channel] == [TOPIC]

    # the socket drops, the first reconnect fails; meanwhile the call ends and the agent
    # wraps up: the catch-up after the reconnect reads it
    genesys.fail_channels = 1
    await genesys.drop()
    genesys.conversations[CONVERSATION] = conversation(ENDED, CUSTOMER_GONE)
    await until(lambda: subscriber.sessions == 3 and subscriber.connected.is_set(), "3rd")
    await stack.memorialized_once(CONVERSATION)

    # the final state notified again changes nothing
    handled = subscriber.handled
    await genesys.push(USER, conversation(ENDED, CUSTOMER_GONE))
    await until(lambda: subscriber.handled > handled, "handled")
    await stack.memorialized_once(CONVERSATION)
    assert stack.cards_posted(ANNA_AGENT) == 1


async def test_removing_the_connector_stops_the_subscriber(
    stack: Stack, genesys: GenesysSim
) -> None:
    await stack.connect(
        "genesys-cloud",
        {
            "settings": {"api_base": genesys.base, "login_base": genesys.base, "ids": [USER]},
            "secrets": {"client_id": CLIENT_ID, "client_secret": "wrong-secret"},
        },
    )
    supervisor: ConnectorSupervisor = stack.bot.client.server.app[SERVICES].connector_supervisor
    await until(lambda: supervisor.subscriber is not None, "subscriber started")
    status, _ = await stack.admin("DELETE", "/api/v1/connectors/genesys-cloud")
    assert status == 204
    await until(lambda: supervisor.subscriber is None, "subscriber stopped")
    assert genesys.subscriptions == {}  # wrong credentials never got a channel
