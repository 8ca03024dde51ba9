"""Twilio TaskRouter: event callbacks as TaskRouter posts them (form-encoded, signed with
the account's auth token by Twilio's algorithm) -> one card for the worker's Teams user and
one memorialization, also when TaskRouter retries and reorders."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bot.connectors.models import TwilioSettings
from bot.connectors.twilio import translate_taskrouter
from tests.bot.activities import BOB_AGENT
from tests.bot.cardtools import texts

from .harness import ANNA_AGENT, CALLER, Stack, fixture

PATH = "/api/v1/connectors/twilio/taskrouter"
TOKEN = "0123456789abcdef0123456789abcdef"
PAYLOADS = fixture("twilio_taskrouter.json")
ACCOUNT = PAYLOADS["common"]["AccountSid"]
SETTINGS = TwilioSettings(account_sid=ACCOUNT)


def params(name: str, **changes: str) -> dict[str, str]:
    return {**PAYLOADS["common"], **PAYLOADS["events"][name], **changes}


async def post(stack: Stack, fields: dict[str, str], token: str = TOKEN) -> tuple[int, Any]:
    url = str(stack.bot.client.make_url(PATH))
    signature = RequestValidator(token).compute_signature(url, fields)
    response = await stack.bot.client.post(
        PATH,
        data=urlencode(fields),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return response.status, await response.json()


async def connect(stack: Stack) -> None:
    await stack.connect(
        "twilio", {"settings": {"account_sid": ACCOUNT}, "secrets": {"auth_token": TOKEN}}
    )


def test_translation_follows_the_task() -> None:
    [started] = translate_taskrouter(params("reservation.accepted"), SETTINGS)
    event = started.event
    assert started.platform_event_id == "EV00000000000000000000000000000002"
    assert (event.type, event.interaction_id, event.channel) == (
        "started",
        PAYLOADS["common"]["TaskSid"],
        "voice",
    )
    assert event.agent is not None
    assert (event.agent.id, event.agent.name, event.agent.email) == (
        "WK0123456789abcdef0123456789abcdef",
        "Alex Agent",
        "Alex.Agent@contoso.example",
    )
    assert event.data["ANI"] == "+49301234567" and event.data["Skill Name"] == "Support DE"
    assert event.script_variables["accountnumber"] == "4711"
    [ended] = translate_taskrouter(params("task.wrapup"), SETTINGS)
    assert (ended.event.type, ended.event.data["ACW"]) == ("ended", True)
    [completed] = translate_taskrouter(params("task.completed"), SETTINGS)
    assert completed.event.type == "acw_completed"
    assert translate_taskrouter(params("worker.activity.update"), SETTINGS) == []


async def test_bad_or_missing_signature_is_401(stack: Stack) -> None:
    await connect(stack)
    status, body = await post(stack, params("task.created"), token="another-token-0000")
    assert (status, body["error"]) == (401, "unauthorized")
    response = await stack.bot.client.post(PATH, data=urlencode(params("task.created")))
    assert response.status == 401
    # a signed body that was changed on the way
    fields = params("task.created")
    url = str(stack.bot.client.make_url(PATH))
    signature = RequestValidator(TOKEN).compute_signature(url, fields)
    response = await stack.bot.client.post(
        PATH,
        data=urlencode({**fields, "TaskQueueName": "Other"}),
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status == 401


async def test_not_set_up_is_404(stack: Stack) -> None:
    status, body = await post(stack, params("task.created"))
    assert (status, body["error"]) == (404, "unknown_connector")


async def test_retried_and_reordered_callbacks_make_one_card_and_one_memorialization(
    stack: Stack,
) -> None:
    await connect(stack)
    interaction_id = PAYLOADS["common"]["TaskSid"]
    # wrap-up arrives first: it waits for the task's assignment
    status, body = await post(stack, params("task.wrapup"))
    assert status == 200 and body["waiting"] == 1, body
    status, body = await post(stack, params("task.created"))
    assert status == 200 and body["waiting"] == 2
    status, body = await post(stack, params("reservation.accepted"))
    # the wrap-up waits for the card's look-up (what the CRM write needs) and follows it
    assert status == 200 and body["applied"] == ["started", "updated"], body
    status, body = await post(stack, params("reservation.accepted"))  # TaskRouter retries
    assert status == 200 and body["duplicates"] == 1 and "started" not in body["applied"]
    card = await stack.bot.card_for(ANNA_AGENT)
    assert CALLER in texts(card)
    for _ in range(2):
        status, body = await post(stack, params("task.completed"))
        assert status == 200
    status, body = await post(stack, params("worker.activity.update"))
    assert status == 200 and body["accepted"] == 0
    await stack.memorialized_once(interaction_id)
    assert stack.cards_posted(ANNA_AGENT) == 1


async def test_the_whole_task_at_once_writes_once_after_the_look_up(stack: Stack) -> None:
    """After an outage TaskRouter delivers a task's events back to back, before the card's
    look-up has pinned the caller: the end waits for it, the CRM is written once."""
    await connect(stack)
    names = ("task.completed", "task.wrapup", "reservation.accepted", "task.created")
    for name in names:
        assert (await post(stack, params(name)))[0] == 200
    await stack.memorialized_once(PAYLOADS["common"]["TaskSid"])
    assert stack.cards_posted(ANNA_AGENT) == 1


async def test_a_transfer_moves_the_card_and_writes_once(stack: Stack) -> None:
    await connect(stack)
    await stack.bot.install(BOB_AGENT)
    first = PAYLOADS["common"]["TaskSid"]
    second = "WT" + "f" * 32
    attributes = json.loads(PAYLOADS["common"]["TaskAttributes"])
    transferred_task = {  # Flex's transfer task keeps the conversation's id
        "TaskSid": second,
        "TaskAttributes": json.dumps({**attributes, "conversations": {"conversation_id": first}}),
    }
    bob = {
        "WorkerSid": "WK" + "b" * 32,
        "WorkerName": "bea.berater",
        "WorkerAttributes": json.dumps({"email": BOB_AGENT.email, "full_name": BOB_AGENT.name}),
    }

    def later(name: str, sid: str, seconds: int, **changes: str) -> dict[str, str]:
        at = int(params(name)["Timestamp"]) + seconds
        return params(name, Sid=sid, Timestamp=str(at), EventDateMs=str(at * 1000), **changes)

    for fields in (params("task.created"), params("reservation.accepted")):
        assert (await post(stack, fields))[0] == 200
    await stack.bot.card_for(ANNA_AGENT)
    # Alex transfers to Bea: a new task, Alex wraps up the first one
    steps = [
        later("task.created", "EV10", 120, **transferred_task),
        later("task.wrapup", "EV11", 130),
        later("task.completed", "EV12", 140),
        later("reservation.accepted", "EV13", 150, **transferred_task, **bob),
        later("task.wrapup", "EV14", 400, **transferred_task),
        later("task.completed", "EV15", 460, **transferred_task),
    ]
    for fields in steps:
        status, body = await post(stack, fields)
        assert status == 200, body
    card = await stack.bot.card_for(BOB_AGENT)
    assert CALLER in texts(card)
    await stack.memorialized_once(first)
    assert stack.cards_posted(ANNA_AGENT) == 1 and stack.cards_posted(BOB_AGENT) == 1


async def test_a_value_that_does_not_fit_is_a_400_naming_the_field(stack: Stack) -> None:
    await connect(stack)
    status, body = await post(stack, params("reservation.accepted", WorkerSid="WK" + "0" * 300))
    assert (status, body["field"]) == (400, "agent.id")
    status, body = await post(stack, params("task.created", TaskAttributes="{not json"))
    assert (status, body["field"]) == (400, "TaskAttributes")
