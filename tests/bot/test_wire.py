"""No outgoing activity carries a JSON ``null`` member, on every path a body leaves by:
the notifier's direct calls and its SDK path, replies in a turn, invoke answers, welcomes.
The fake connector answers 400 to a null member, as Agents Playground does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ClaimsIdentity, RestChannelServiceClientFactory
from sqlalchemy import select

from bot.api.messages import auth_configuration
from bot.notifier import Notifier, card_activity
from bot.services import SERVICES
from bot.storage.tables import InstallationRow
from bot.wire import WireClientFactory, dumps, without_nulls

from .activities import ANNA_AGENT, card_action, message
from .cardtools import pin_targets
from .conftest import make_settings, started
from .connector import null_member, shape_problem
from .jwt_keys import LocalConnections

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hi"}]}


def test_null_members_are_left_out_at_any_depth_and_list_items_stay():
    body = {"id": None, "a": {"b": None, "c": [{"d": None, "e": 1}, None]}, "f": [1, 2]}
    assert without_nulls(body) == {"a": {"c": [{"e": 1}, None]}, "f": [1, 2]}
    assert json.loads(dumps(body)) == without_nulls(body)
    clean = {"a": {"b": 1}}
    assert without_nulls(clean) is clean  # nothing to drop: no copy


def test_dumps_writes_the_cleaned_value_also_when_null_is_only_text():
    # the text "null" in a value (a customer named so) takes the cleaning path: same output
    body = {"text": "null", "a": {"b": None, "c": ["null", None]}, "d": "ü"}
    assert dumps(body) == '{"text":"null","a":{"c":["null",null]},"d":"ü"}'
    assert dumps({"text": "null"}) == '{"text":"null"}'
    clean = {"type": "AdaptiveCard", "body": [{"text": "Grüße", "wrap": True}], "n": 1.5}
    assert dumps(clean) == json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


async def _reference(bot) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await bot.install(ANNA_AGENT)
    async with bot.client.app[SERVICES].sessions() as session:
        row = (await session.execute(select(InstallationRow))).scalars().one()
    return dict(row.reference)


def _no_nulls(bot) -> None:  # type: ignore[no-untyped-def]
    assert bot.connector.rejected == []
    for call in bot.connector.calls:
        assert null_member(call.body) is None, call.path


async def test_the_notifiers_direct_calls_carry_no_nulls(bot):
    reference = await _reference(bot)
    notifier = bot.client.app[SERVICES].notifier
    first = await notifier.send_card(reference, CARD)
    await notifier.update_card(reference, first, CARD)
    second = await notifier.send(reference, card_activity(CARD))
    await notifier.update(reference, second, card_activity(CARD))
    assert len(bot.connector.posts()) >= 3 and len(bot.connector.puts()) == 2
    _no_nulls(bot)


def _sdk_notifier(tmp_path, sqlite_url, factory_type) -> Notifier:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, sqlite_url, app_id="app-id", app_password="secret")
    connections = LocalConnections(auth_configuration(settings))
    adapter = CloudAdapter(
        connection_manager=connections,
        channel_service_client_factory=factory_type(connections),
    )
    return Notifier(adapter, "app-id")  # no connection manager: the SDK's proactive path


async def test_the_notifiers_sdk_path_carries_no_nulls(bot, tmp_path, sqlite_url):
    reference = await _reference(bot)
    notifier = _sdk_notifier(tmp_path, sqlite_url, WireClientFactory)
    sent = await notifier.send_card(reference, CARD)
    await notifier.update_card(reference, sent, CARD)
    assert bot.connector.posts()[-1].authorization == "Bearer outbound-test-token"
    assert bot.connector.puts()[-1].path.endswith("/" + sent)
    _no_nulls(bot)


async def test_without_the_wire_factory_the_sdk_itself_sends_nulls(bot, tmp_path, sqlite_url):
    """Why WireClientFactory exists: the SDK's send_to_conversation writes the id and locale
    it set to None (the stand-in then answers 400, as the Playground does)."""
    reference = await _reference(bot)
    reference.pop("locale", None)
    bot.connector.refusals_expected = True
    notifier = _sdk_notifier(tmp_path, sqlite_url, RestChannelServiceClientFactory)
    with pytest.raises(Exception):  # noqa: B017 (the SDK's turn error, then no result)
        await notifier.send_card(reference, CARD)
    assert "null at $." in bot.connector.rejected[-1][2]


async def test_a_reply_to_an_activity_without_id_carries_no_nulls(bot):
    """Without an id to reply to, the SDK posts the reply with send_to_conversation, after
    setting its id to None."""
    await bot.install(ANNA_AGENT)
    before = len(bot.connector.posts())
    incoming = message(bot.service_url, ANNA_AGENT, "help")
    del incoming["id"]
    status, _ = await bot.activity(incoming)
    assert status in (200, 202)
    calls = await bot.connector.wait_for(lambda calls: bot.connector.posts()[before:])
    assert calls[0].path.endswith("/activities")  # not a reply path
    _no_nulls(bot)


async def test_the_welcome_and_help_replies_carry_no_nulls(bot):
    await bot.install(ANNA_AGENT)
    status, _ = await bot.activity(message(bot.service_url, ANNA_AGENT, "help"))
    assert status in (200, 202)
    assert len(bot.connector.cards(ANNA_AGENT.conversation_id)) >= 2
    _no_nulls(bot)


async def test_invoke_answers_carry_no_nulls(bot):
    await bot.install(ANNA_AGENT)
    status, _ = await bot.event(started(ANNA_AGENT))
    assert status in (200, 202)
    card = await bot.card_for(ANNA_AGENT)
    target = next(iter(pin_targets(card, "unpin").values()))
    response = await bot.client.post(
        "/api/messages", json=card_action(bot.service_url, ANNA_AGENT, "unpin", target)
    )
    assert response.status == 200
    answer = json.loads(await response.text())
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert null_member(answer) is None
    _no_nulls(bot)


async def test_the_wire_factory_sets_the_session_serializer(tmp_path, sqlite_url):
    """Guards the one private aiohttp attribute WireClientFactory sets (on upgrades)."""
    settings = make_settings(tmp_path, sqlite_url, app_id="app-id", app_password="secret")
    factory = WireClientFactory(LocalConnections(auth_configuration(settings)))
    client = await factory.create_connector_client(
        None, ClaimsIdentity({}, False), "http://127.0.0.1:9/", "audience", use_anonymous=True
    )
    try:
        assert client.client.json_serialize is dumps  # type: ignore[attr-defined]
    finally:
        await client.close()


CARD_ATTACHMENT = {"contentType": "application/vnd.microsoft.card.adaptive", "content": CARD}


@pytest.mark.parametrize(
    ("method", "body", "problem"),
    [
        ("POST", {"type": "message", "text": "hi", "replyToId": None}, "null at $.replyToId"),
        ("POST", {"type": "message"}, "needs text or an attachment"),
        ("POST", {"type": "event", "text": "x"}, "type 'event'"),
        ("PUT", {"type": "typing"}, "type 'typing'"),
        ("POST", {"type": "message", "text": 7}, "text is not a string"),
        ("POST", {"type": "message", "text": "x", "textFormat": "html"}, "textFormat 'html'"),
        (
            "POST",
            {"type": "message", "attachments": [{**CARD_ATTACHMENT, "content": "{}"}]},
            "attachments[0].content is not an object",
        ),
        ("PUT", {"type": "message", "attachments": [{"content": {}}]}, "no contentType"),
        ("POST", {"type": "message", "text": "x", "entities": [{}]}, "an entity has no type"),
    ],
)
def test_the_stand_in_refuses_what_the_playground_refuses(method, body, problem):
    assert problem in (shape_problem(method, body) or "")


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("POST", {"type": "message", "attachments": [CARD_ATTACHMENT]}),
        ("POST", {"type": "typing"}),
        ("PUT", {"type": "message", "id": "act-1", "attachments": [CARD_ATTACHMENT]}),
        ("POST", {"type": "message", "text": "", "textFormat": "markdown"}),
    ],
)
def test_the_stand_in_takes_what_the_playground_takes(method, body):
    assert shape_problem(method, body) is None
