"""The demo's cards as an agent meets them: names where the CRM has ids.

``DEMO_CARDS_OUT=DIR`` keeps the cards (for ``tests/cards/render/measure.js`` or
``../shared/tools/render-card``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from cards import SEARCH_ID
from tests.cards.rendering import FIRST_SCREEN_PX, measure, pinned_boxes, renderer_or_skip

from .activities import ANNA_AGENT, card_action, message
from .cardtools import pin_targets, texts
from .conftest import started

# The demo CRM's ids: a type prefix and 12 hex digits (crm/demo.py)
_DEMO_ID = re.compile(r"\b(?:acc|con|cas|lea|tsk|sub)-[0-9a-f]{12}\b")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


def _raw_ids(card: dict[str, Any]) -> list[str]:
    """Demo record ids an agent would read on the card (link targets are not read)."""
    return _DEMO_ID.findall(_LINK_TARGET.sub("]", texts(card)))


def _keep(name: str, card: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _out(tmp_path: Path) -> Path:
    return Path(os.environ.get("DEMO_CARDS_OUT") or tmp_path / "cards")


async def _related_arrived(bot, title: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    puts = await bot.connector.wait_for(
        lambda calls: [c for c in calls if c.card is not None and title in texts(c.card)]
    )
    return puts[-1].card  # type: ignore[no-any-return]


async def test_demo_cards_name_referenced_records_and_link_them(bot, tmp_path):
    await bot.install(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT))
    first = await bot.card_for(ANNA_AGENT)
    card = await _related_arrived(bot, "Markus Berger")
    for name, shown in (("first_card", first), ("one_match", card)):
        _keep(name, shown, _out(tmp_path))
        assert _raw_ids(shown) == [], name
    # Anna's account by name, linked to it in the demo CRM
    assert re.search(
        r"\[Schmidt Logistik GmbH\]\(http[^)]*/account/acc-[0-9a-f]{12}\)", texts(card)
    )

    await bot.activity(message(bot.service_url, ANNA_AGENT, "search Wagner"))
    searched = await _related_arrived(bot, "Klaus Wagner")
    _keep("after_search", searched, _out(tmp_path))
    assert _raw_ids(searched) == []

    status, body = await bot.activity(
        card_action(bot.service_url, ANNA_AGENT, "pin", pin_targets(searched)["Klaus Wagner"])
    )
    assert status == 200
    pinned = body["value"]
    _keep("after_pins", pinned, _out(tmp_path))
    assert "Klaus Wagner" in pin_targets(pinned, "unpin") and _raw_ids(pinned) == []


async def test_several_and_no_matches_show_no_raw_ids(bot, tmp_path):
    await bot.install(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT, number="+49 40 5550190"))
    several = await bot.card_for(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT, number="+49 89 000000"))
    none = await bot.card_for(ANNA_AGENT, count=2)
    for name, card in (("several_matches", several), ("no_match", none)):
        _keep(name, card, _out(tmp_path))
        assert _raw_ids(card) == [], name


async def test_the_demo_call_reads_at_a_glance(bot, tmp_path):
    """``simulate call +49 30 1234567`` as Teams draws it: at most 900 px tall, the pinned
    record and the search box on the first screen, in every theme."""
    renderer_or_skip()
    await bot.install(ANNA_AGENT)
    await bot.activity(message(bot.service_url, ANNA_AGENT, "simulate call +49 30 1234567"))
    await bot.card_for(ANNA_AGENT)
    card = await _related_arrived(bot, "Markus Berger")
    path = _keep("demo_call", card, _out(tmp_path))
    for theme, shown in measure([path], path.parent)[path.name].items():
        assert shown["errors"] == [] and shown["height"] <= 900, theme
        assert max(bottom for _, bottom in pinned_boxes(shown)) <= FIRST_SCREEN_PX, theme
        assert shown["ids"][SEARCH_ID][1] <= FIRST_SCREEN_PX, theme


def _crm_links(card: dict[str, Any]) -> set[str]:
    """The Open in CRM targets on a card (Action.OpenUrl and markdown links)."""
    found = set(re.findall(r'"url": "([^"]+)"', json.dumps(card)))
    found |= set(re.findall(r"\]\((http[^)]+)\)", texts(card)))
    return {url for url in found if "/demo-crm/" in url}


@pytest.mark.parametrize(
    ("overrides", "base"),
    [
        ({"port": 4123}, "http://localhost:4123/demo-crm/"),
        ({"public_url": "https://cc.example.com/"}, "https://cc.example.com/demo-crm/"),
    ],
)
async def test_open_in_crm_links_follow_the_port_and_the_public_url(
    make_bot, overrides: dict[str, Any], base: str
) -> None:
    bot = await make_bot(**overrides)
    await bot.install(ANNA_AGENT)
    await bot.event(started(ANNA_AGENT))
    card = await _related_arrived(bot, "Markus Berger")
    links = _crm_links(card)
    assert links and all(url.startswith(base) for url in links), sorted(links)


async def test_german_agents_read_the_card_and_forms_in_german(bot, tmp_path):
    """Record types, field labels and the product name follow the agent's locale; the same
    call in English keeps the CRM's English labels."""
    from .activities import task

    await bot.install(ANNA_AGENT, locale="de-DE")
    await bot.activity(
        message(bot.service_url, ANNA_AGENT, "simulate call +49 30 1234567", locale="de-DE")
    )
    await bot.card_for(ANNA_AGENT)
    card = await _related_arrived(bot, "Markus Berger")
    _keep("german_demo_call", card, _out(tmp_path))
    shown = texts(card)
    assert card["lang"] == "de" and card["fallbackText"] == "Customer Card: Anna Schmidt"
    for german in ("Kontakt", "Telefon", "Mobil", "Firma", "Vorgang", "Abonnement"):
        assert german in shown, german
    # (picklist values, such as a case's origin "Phone", are the CRM's data and stay as stored)
    for english in ("Mobile", "Contact ·", "Case ·", "Subscription", "Mailing City", "Kundenkarte"):
        assert english not in shown, english

    interaction_id = card["refresh"]["action"]["data"]["interactionId"]
    status, body = await bot.activity(
        task(
            bot.service_url,
            ANNA_AGENT,
            "task/fetch",
            {"verb": "create_form", "interactionId": interaction_id, "createType": "case"},
            locale="de-DE",
        )
    )
    assert status == 200
    form = texts(body["task"]["value"]["card"]["content"])
    assert "Betreff" in form and "Priorität" in form and "Subject" not in form
    assert "Vorgang" in body["task"]["value"]["title"]


async def test_english_agents_keep_the_crms_labels(bot):
    await bot.install(ANNA_AGENT)
    await bot.activity(message(bot.service_url, ANNA_AGENT, "simulate call +49 30 1234567"))
    await bot.card_for(ANNA_AGENT)
    shown = texts(await _related_arrived(bot, "Markus Berger"))
    assert "Phone" in shown and "Contact ·" in shown and "Telefon" not in shown
