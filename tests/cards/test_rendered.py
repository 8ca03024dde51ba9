"""The golden Customer Cards as Teams draws them: rendered by Microsoft's Adaptive Cards
renderer (``adaptivecards`` 3.0.6) in headless Chromium with the Teams host configs, light,
dark and high contrast, at Teams' width, and measured.

See ``tests/cards/rendering.py`` for what it needs. ``CARD_SCREENSHOTS=DIR`` keeps the PNGs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cards import SEARCH_ID
from tests.cards.rendering import FIRST_SCREEN_PX, THEMES, measure, pinned_boxes, renderer_or_skip

GOLDEN = Path(__file__).parent / "golden"
CUSTOMER_CARDS = sorted(GOLDEN.glob("customer_*.json"))
DEMO_CARD_MAX_PX = 900


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    renderer_or_skip()
    out = os.environ.get("CARD_SCREENSHOTS") or tmp_path_factory.mktemp("rendered")
    return measure(CUSTOMER_CARDS, Path(out))


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in CUSTOMER_CARDS])
def test_renders_without_errors_in_every_theme(
    rendered: dict[str, dict[str, Any]], name: str
) -> None:
    for theme in THEMES:
        assert rendered[name][theme]["errors"] == [], theme


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "de"])
def test_demo_call_fits_and_shows_the_pinned_record_and_search_first(
    rendered: dict[str, dict[str, Any]], locale: str
) -> None:
    for theme in THEMES:
        card = rendered[f"customer_demo_call.{locale}.json"][theme]
        assert card["height"] <= DEMO_CARD_MAX_PX, theme
        pinned = pinned_boxes(card)
        assert pinned and max(bottom for _, bottom in pinned) <= FIRST_SCREEN_PX, theme
        assert card["ids"][SEARCH_ID][1] <= FIRST_SCREEN_PX, theme


@pytest.mark.slow
def test_with_at_most_one_pinned_record_the_search_box_is_on_the_first_screen(
    rendered: dict[str, dict[str, Any]],
) -> None:
    for name, themes in rendered.items():
        ids = themes["light"]["ids"]
        if SEARCH_ID in ids and len(pinned_boxes(themes["light"])) <= 1:
            assert ids[SEARCH_ID][1] <= FIRST_SCREEN_PX, name


@pytest.mark.slow
def test_related_records_take_one_compact_row_each(rendered: dict[str, dict[str, Any]]) -> None:
    """Five related records under the pinned one cost less than the pinned one itself."""
    card = rendered["customer_demo_call.en.json"]["light"]
    (pinned,) = pinned_boxes(card)
    below_search = card["height"] - card["ids"][SEARCH_ID][1]
    assert below_search < 2 * (pinned[1] - pinned[0])
