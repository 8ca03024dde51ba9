"""Few Bot Connector calls per card (Teams counts every call against the tenant's limit):
the first card carries the related records that come within the card window, later
changes coalesce into one PUT per window, an unchanged card is not PUT again, and a 429
is retried until the card arrives. Driven through the events API against the fake Bot
Connector (tests/bot/connector.py), which refuses what the Playground refuses."""

from __future__ import annotations

import asyncio

from .activities import ANNA_AGENT
from .cardtools import texts
from .conftest import follow_up, started

RELATED = "Markus Berger"  # related to Anna Schmidt, the single match of +49 30 1234567


async def _quiet(bot, seconds: float = 0.6) -> None:  # type: ignore[no-untyped-def]
    """Until the bot made no connector call for ``seconds``."""
    seen = -1
    while seen != len(bot.connector.calls):
        seen = len(bot.connector.calls)
        await asyncio.sleep(seconds)


async def _card_posted(make_bot, window_ms: float):  # type: ignore[no-untyped-def]
    """A bot with that card window, Anna's card posted; and the interaction's id."""
    bot = await make_bot(card_window_ms=window_ms)
    await bot.install(ANNA_AGENT)
    event = started(ANNA_AGENT)
    await bot.event(event)
    await bot.card_for(ANNA_AGENT)
    return bot, event["interactionId"]


def _cards(bot, user):  # type: ignore[no-untyped-def]
    return [c for c in bot.connector.cards(user.conversation_id) if c.card.get("msteams")]


async def test_the_first_card_carries_related_records_that_come_within_the_window(make_bot):
    bot = await make_bot(card_window_ms=5000)  # wide: the demo CRM answers at once
    await bot.install(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT))
    card = await bot.card_for(ANNA_AGENT)
    await _quiet(bot)
    assert RELATED in texts(card)
    assert [c.method for c in _cards(bot, ANNA_AGENT)] == ["POST"]  # one call in all


async def test_related_records_after_the_window_follow_in_one_put(make_bot):
    bot = await make_bot(card_window_ms=0)  # the first card waits for nothing
    await bot.install(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT))
    first = await bot.card_for(ANNA_AGENT)
    await _quiet(bot)
    calls = _cards(bot, ANNA_AGENT)
    assert RELATED not in texts(first)
    assert [c.method for c in calls] == ["POST", "PUT"]
    assert RELATED in texts(calls[-1].card)


async def test_changes_within_a_window_coalesce_into_one_put(make_bot):
    bot, interaction_id = await _card_posted(make_bot, 1500)
    for skill in ("Billing DE", "Sales DE", "Returns DE", "Premium DE"):
        status, _ = await bot.event(
            follow_up(interaction_id, "updated", data={"Skill Name": skill})
        )
        assert status == 202
    await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.card and "Premium DE" in texts(c.card)]
    )
    await _quiet(bot)
    calls = _cards(bot, ANNA_AGENT)
    assert [c.method for c in calls] == ["POST", "PUT"], "four changes, one PUT"
    assert "Premium DE" in texts(calls[-1].card)


async def test_a_change_the_card_does_not_show_is_not_sent(make_bot):
    bot, interaction_id = await _card_posted(make_bot, 5000)
    await _quiet(bot)
    # 'updated' shows as 'Active' like 'started'; the hold time is not on the card
    status, _ = await bot.event(follow_up(interaction_id, "updated", data={"Hold": "12"}))
    assert status == 202
    await asyncio.sleep(5.5)  # past the window, when a PUT would be due
    assert [c.method for c in _cards(bot, ANNA_AGENT)] == ["POST"]
    # a visible change still goes out
    await bot.event(follow_up(interaction_id, "updated", data={"Skill Name": "Sales DE"}))
    await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "PUT" and "Sales DE" in texts(c.card)]
    )


async def test_a_throttled_card_is_retried_until_it_arrives(make_bot):
    bot = await make_bot()
    await bot.install(ANNA_AGENT)
    await _quiet(bot, 0.2)
    bot.connector.fail_next = [429] * 5  # as many as other statuses get attempts in all
    await bot.event(started(ANNA_AGENT))
    # backoff 0.25 s doubling (with jitter), never sooner than Retry-After
    await bot.connector.wait_for(lambda calls: _cards(bot, ANNA_AGENT), 30)
    assert bot.connector.fail_next == []
    assert [c.method for c in _cards(bot, ANNA_AGENT)] == ["POST"]


async def test_every_look_up_gives_its_slot_back(make_bot):
    """Caller look-ups in flight are bounded (``delivery.CONCURRENT_LOOKUPS``); whatever a
    look-up found (one match with related records, two matches, none), its slot is free
    again once the CRM has answered, and more look-ups than slots all get their card."""
    from bot.interactions.delivery import CONCURRENT_LOOKUPS
    from bot.services import SERVICES

    bot = await make_bot(card_window_ms=0)
    await bot.install(ANNA_AGENT)
    numbers = ["+49 30 1234567", "+49 40 5550190", "+49 89 000000"]  # one, several, no match
    events = [started(ANNA_AGENT, number=numbers[n % 3]) for n in range(CONCURRENT_LOOKUPS + 8)]
    delivery = bot.client.app[SERVICES].delivery
    await asyncio.gather(*(bot.event(event) for event in events))
    await _quiet(bot)
    await delivery.drain()
    assert delivery.lookups_in_flight == 0
    posted = [c for c in bot.connector.calls if c.method == "POST" and c.card.get("msteams")]
    assert len(posted) >= len(events)  # every interaction got its card
