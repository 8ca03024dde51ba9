"""The README's walk-through in Microsoft 365 Agents Playground, end to end: the welcome, help,
whoami, ``simulate call``, the Customer Card with both sections, Unpin / Pin / Search updating
the same message, ``simulate end``; and the Playground's log panel shows no refused post."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.slow

CARDS = ".ac-adaptiveCard"
# The log panel names every call of the bot to the Playground's connector with its status.
REFUSED = re.compile(r"User Application\s*\S*\s*Microsoft 365 Agents Playground\s+\w+ [45]\d\d")


async def _say(page: Any, text: str) -> None:
    box = page.locator("[data-lexical-editor=true]")
    await box.click()
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")


async def _wait_for_text(page: Any, text: str, *, within: Any = None, seconds: float = 20) -> None:
    scope = within if within is not None else page
    await scope.get_by_text(text, exact=False).first.wait_for(timeout=seconds * 1000)


async def _count(page: Any) -> int:
    return int(await page.locator(CARDS).count())


async def _log_text(page: Any) -> str:
    return str(await page.locator("body").inner_text())


async def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_the_readme_walk_through_shows_and_updates_the_customer_card(page: Any) -> None:
    # connecting installs the app: exactly one welcome (the help card)
    await _wait_for_text(page, "Customer Card commands")
    await page.wait_for_timeout(1500)  # a second welcome would have arrived by now
    assert await page.get_by_text("Customer Card commands").count() == 1

    await _say(page, "whoami")
    await _wait_for_text(page, "alexw@example.com")

    await _say(page, "simulate call +49 30 1234567")
    await _wait_for_text(page, "Current Interaction")
    card = page.locator(CARDS).last
    await _wait_for_text(page, "Related Interactions", within=card)
    await _wait_for_text(page, "Schmidt Logistik GmbH", within=card)  # related, by name
    assert "Anna Schmidt" in await card.inner_text()
    await _shot(page, "customer-card")
    await card.screenshot(path=str(ARTIFACTS / "card.png"))  # docs/local-testing.md shows it
    messages = await _count(page)

    # Unpin: the same message changes in place, and says so
    await card.get_by_role("button", name="Unpin").click()
    await page.wait_for_function(
        f"() => !document.querySelectorAll('.ac-adaptiveCard')[{messages} - 1].innerText"
        ".includes('Unpin')",
        timeout=20000,
    )
    assert await _count(page) == messages
    text = await page.locator(CARDS).last.inner_text()
    assert "found and pinned" not in text

    # Search from the card's own box: results on the same message
    card = page.locator(CARDS).last
    await card.get_by_placeholder(re.compile("phone number")).fill("wagner")
    await card.get_by_role("button", name="Search").click()
    await _wait_for_text(page, "Klaus Wagner", within=page.locator(CARDS).last)
    assert await _count(page) == messages

    # Pin a search result: it opens in place, then Pin moves it to Current Interaction
    card = page.locator(CARDS).last
    await card.get_by_text("Klaus Wagner").first.click()
    await card.get_by_role("button", name="Pin").first.click()
    await page.wait_for_function(
        f"() => document.querySelectorAll('.ac-adaptiveCard')[{messages} - 1].innerText"
        ".includes('Unpin')",
        timeout=20000,
    )
    assert await _count(page) == messages
    await _shot(page, "after-pin")

    # Show more: the related records left out for size come in, on the same message
    card = page.locator(CARDS).last
    hidden = re.search(r"(\d+) more not shown", await card.inner_text())
    assert hidden, "the search leaves more related records than the card shows"
    await card.get_by_role("button", name="Show more").click()
    await page.wait_for_function(
        f"() => !document.querySelectorAll('.ac-adaptiveCard')[{messages} - 1].innerText"
        f".includes('{hidden.group(0)}')",
        timeout=20000,
    )
    assert await _count(page) == messages

    await _say(page, "simulate end")
    await _wait_for_text(page, "Ended", within=page.locator(CARDS).nth(messages - 1))

    log = await _log_text(page)
    assert not REFUSED.search(log), REFUSED.search(log)
