"""The Bot Framework Emulator path: no Universal Actions, no dialogs.

The Emulator renders each Action.Execute's Action.Submit fallback and posts the Create/Edit
Action.Submit as a plain message: a message activity without text whose ``value`` is the
button's data plus the card's inputs. The bot must act on those exactly as on Teams'
invokes and update the card message in place (PUT), since no invoke answer carries a card.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from . import cardtools
from .activities import ANNA_AGENT, User
from .cardtools import texts, walk
from .conftest import AUTH, started

_ids = itertools.count(1)

AGENT = User("emu-user-1", "", "User", "")
STRANGER = User("emu-user-2", "", "Other User", "")


def emulator_message(
    bot,
    user: User,
    *,
    text: str | None = None,  # type: ignore[no-untyped-def]
    value: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message as the Emulator sends it: channel ``emulator``, no tenant, no AAD id."""
    body: dict[str, Any] = {
        "type": "message",
        "id": f"emu-{next(_ids)}",
        "channelId": "emulator",
        "serviceUrl": bot.service_url,
        "timestamp": "2025-01-01T10:00:00.000Z",
        "locale": "en-US",
        "from": {"id": user.teams_id, "name": user.name, "role": "user"},
        "recipient": {"id": "bot-1", "name": "Bot", "role": "bot"},
        "conversation": {"id": user.conversation_id},
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    return body


async def _say(bot, user: User, text: str) -> None:  # type: ignore[no-untyped-def]
    status, _ = await bot.activity(emulator_message(bot, user, text=text))
    assert status in (200, 202)


async def _click(bot, user: User, value: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    status, body = await bot.activity(emulator_message(bot, user, value=value))
    assert status in (200, 202) and not body  # no invoke answer: the card changes in place


async def _simulate(bot, number: str) -> tuple[dict[str, Any], str]:  # type: ignore[no-untyped-def]
    """``simulate call`` typed in the Emulator: the card and its message id."""
    await _say(bot, AGENT, f"simulate call {number}")
    calls = await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "POST" and c.card and c.card.get("msteams")]
    )
    posts = [c for c in bot.connector.calls if c.method == "POST"]
    card = calls[0].card
    # The bot notes the message id just after the POST; a click before that finds no card
    # to update (a person cannot click that fast, a test can).
    path = f"/api/v1/interactions/{card['actions'][0]['data']['interactionId']}"
    async with asyncio.timeout(10):
        # polls the service's HTTP API: there is no in-process event to wait on
        while (await (await bot.client.get(path, headers=AUTH)).json())["card"] != "posted":  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return card, f"act-{posts.index(calls[0]) + 1}"  # the fake numbers its answers


def pin_targets(card: dict[str, Any], verb: str = "pin") -> dict[str, dict[str, Any]]:
    return cardtools.pin_targets(card, verb, kind="Action.Submit")


def _submit(card: dict[str, Any], verb: str, record: str | None = None) -> dict[str, Any]:
    """What the Emulator posts for the ``verb`` button (of ``record``): its fallback's data."""
    containers = [
        n
        for n in walk(card["body"])
        if n.get("type") == "Container"
        and (record is None or any(i.get("text") == record for i in walk(n["items"])))
    ]
    for node in walk(containers if record else [card["body"], card.get("actions") or []]):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            assert node["fallback"]["type"] == "Action.Submit"
            return dict(node["fallback"]["data"])
        if node.get("type") == "Action.Submit" and (node.get("data") or {}).get("verb") == verb:
            return dict(node["data"])  # Create/Edit: the Emulator posts the submit itself
    raise AssertionError(f"no {verb} button for {record}")


async def _put(bot, message_id: str, predicate) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The latest card PUT into ``message_id`` that satisfies ``predicate``."""
    calls = await bot.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT"
            and c.path.endswith("/" + message_id)
            and c.card
            and predicate(c.card)
        ]
    )
    return calls[-1].card


def _action_types(card: dict[str, Any]) -> set[str]:
    return {n["type"] for n in walk(card) if str(n.get("type", "")).startswith("Action.")}


async def test_the_emulator_agent_gets_submit_buttons_only(bot):
    card, message_id = await _simulate(bot, "+49 40 5550190")
    assert "Action.Execute" not in _action_types(card) and "refresh" not in card
    submits = [n for n in walk(card) if n.get("type") == "Action.Submit"]
    assert {(a.get("data") or {}).get("verb") for a in submits} >= {"pin", "search", "refresh"}
    assert all(a["data"]["interactionId"] for a in submits if a["data"].get("verb") == "pin")

    # the card message stays Submit-only when the service updates it in place
    await _click(bot, AGENT, _submit(card, "pin", "Klaus Wagner"))
    pinned = await _put(bot, message_id, lambda c: "Klaus Wagner" in pin_targets(c, "unpin"))
    assert "Action.Execute" not in _action_types(pinned) and "refresh" not in pinned
    await _click(bot, AGENT, _submit(pinned, "refresh"))  # put back by the submit handler
    await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "PUT" and c.card and c.card.get("msteams")][
            1:
        ]
    )
    assert all(
        "Action.Execute" not in _action_types(c.card) and "refresh" not in c.card
        for c in bot.connector.puts()
        if c.card
    )


async def test_a_teams_agent_still_gets_universal_actions(bot):
    await bot.install(ANNA_AGENT)
    status, _ = await bot.event(started(ANNA_AGENT, number="+49 40 5550190"))
    assert status == 202
    card = await bot.card_for(ANNA_AGENT)
    executes = [
        n for n in walk([card["body"], card["actions"]]) if n.get("type") == "Action.Execute"
    ]
    assert {a["verb"] for a in executes} >= {"pin", "search", "refresh"}
    assert card["refresh"]["action"]["type"] == "Action.Execute"
    for action in executes:  # the fallback the Emulator would have drawn
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit" and fallback["title"] == action["title"]
        assert fallback["data"] == action["data"] and fallback["data"]["verb"] == action["verb"]


async def test_pin_and_unpin_update_the_card_message_in_place(bot):
    card, message_id = await _simulate(bot, "+49 40 5550190")
    posted = len(bot.connector.posts())
    await _click(bot, AGENT, _submit(card, "pin", "Klaus Wagner"))
    pinned = await _put(bot, message_id, lambda c: "Klaus Wagner" in pin_targets(c, "unpin"))
    await _click(bot, AGENT, _submit(pinned, "unpin", "Klaus Wagner"))
    await _put(
        bot,
        message_id,
        lambda c: (
            "Klaus Wagner" in pin_targets(c) and "Klaus Wagner" not in pin_targets(c, "unpin")
        ),
    )
    assert len(bot.connector.posts()) == posted  # no new message, no notice


async def test_search_fills_related_and_an_empty_search_says_so(bot):
    card, message_id = await _simulate(bot, "+49 30 0000000")
    posted = len(bot.connector.posts())
    await _click(bot, AGENT, {**_submit(card, "search"), "query": "Wagner"})
    found = await _put(bot, message_id, lambda c: "Petra Wagner" in pin_targets(c))
    assert "Klaus Wagner" in pin_targets(found)
    assert len(bot.connector.posts()) == posted

    await _click(bot, AGENT, {**_submit(card, "search"), "query": "Nobody-by-this-name"})
    notice = await bot.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "POST" and c.card and "The search found no records." in texts(c.card)
        ]
    )
    assert "msteams" not in notice[0].card  # a short notice, not another Customer Card


async def test_create_shows_the_form_inline_validates_it_and_pins_the_record(bot):
    card, message_id = await _simulate(bot, "+49 30 0000000")
    posted = len(bot.connector.posts())
    create = _submit(card, "create_form")
    assert create["msteams"] == {"type": "task/fetch"}  # a dialog in Teams
    await _click(bot, AGENT, {**create, "createType": "contact"})
    form = await _put(bot, message_id, lambda c: "Last Name" in texts(c))
    assert "Action.Execute" not in _action_types(form)  # the Emulator would never send it

    save = _submit(form, "save")
    assert save["mode"] == "create" and save["recordType"] == "contact"
    await _click(
        bot, AGENT, {**save, "first_name": "Nina", "last_name": "", "email": "nina@example.org"}
    )
    again = await _put(bot, message_id, lambda c: "This field is required." in texts(c))
    assert "Nina" in texts(again) and "nina@example.org" in texts(again)

    await _click(
        bot,
        AGENT,
        {**save, "first_name": "Nina", "last_name": "Neumann", "email": "nina@example.org"},
    )
    done = await _put(bot, message_id, lambda c: "Nina Neumann" in pin_targets(c, "unpin"))
    assert done.get("msteams") == {"width": "full"}  # the Customer Card is back
    assert len(bot.connector.posts()) == posted


async def test_edit_inline_and_cancel_puts_the_card_back(bot):
    card, message_id = await _simulate(bot, "+49 30 1234567")
    await _click(bot, AGENT, _submit(card, "edit_form", "Anna Schmidt"))
    form = await _put(bot, message_id, lambda c: "Save" in texts(c))
    assert "0171 2345678" in texts(form)
    await _click(bot, AGENT, _submit(form, "refresh"))  # Cancel
    back = await _put(
        bot,
        message_id,
        lambda c: c.get("msteams") is not None and "Anna Schmidt" in pin_targets(c, "unpin"),
    )
    assert "Save" not in texts(back)


async def test_only_the_assigned_agent_can_act(bot):
    card, message_id = await _simulate(bot, "+49 40 5550190")
    await _say(bot, STRANGER, "whoami")  # the Emulator has no install event
    puts = len(bot.connector.puts())
    await _click(bot, STRANGER, _submit(card, "pin", "Klaus Wagner"))
    await _click(bot, STRANGER, {**_submit(card, "create_form"), "createType": "contact"})
    refused = await bot.connector.wait_for(
        lambda calls: [
            c
            for c in bot.connector.posts(STRANGER.conversation_id)
            if c.card
            and "Only the agent assigned to this interaction can act on this card." in texts(c.card)
        ][1:]
    )
    assert all("msteams" not in c.card for c in refused)
    assert len(bot.connector.puts()) == puts  # the agent's card was not touched

    await _click(bot, AGENT, _submit(card, "refresh"))
    current = await _put(bot, message_id, lambda c: "Klaus Wagner" in pin_targets(c))
    assert pin_targets(current, "unpin") == {}  # the stranger pinned nothing
