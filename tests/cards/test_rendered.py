"""The golden Customer Cards as Teams draws them: rendered by Microsoft's Adaptive Cards
renderer (``adaptivecards`` 3.0.6) in headless Chromium with the Teams host configs, light,
dark and high contrast, at Teams' width, and measured.

Needs node, Debian's chromium and ``npm install`` in ``tests/cards/render`` (``.ci/run``
does both); without them the test is skipped, unless ``CUSTOMER_CARD_RENDER_REQUIRED=1``
(set in CI) makes that a failure. ``CARD_SCREENSHOTS=DIR`` keeps the PNGs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cards import SEARCH_ID

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
MEASURE = HERE / "render" / "measure.js"
THEMES = ("light", "dark", "contrast")
CUSTOMER_CARDS = sorted(GOLDEN.glob("customer_*.json"))
FIRST_SCREEN_PX = 600  # what Teams shows of a card without scrolling, about
DEMO_CARD_MAX_PX = 900


def _modules_installed() -> bool:
    candidates = [
        os.environ.get("CARD_RENDER_MODULES", ""),
        str(HERE / "render" / "node_modules"),
        str(Path.home() / ".cache" / "customer-card-tools" / "node_modules"),
    ]
    return any(c and (Path(c) / "adaptivecards").is_dir() for c in candidates)


def _renderer_missing() -> str:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists():
        return "chromium is not installed"
    return "" if _modules_installed() else "npm install in tests/cards/render has not run"


@cache
def _measured(out_dir: str) -> dict[str, dict[str, Any]]:
    files = [str(p) for p in CUSTOMER_CARDS]
    done = subprocess.run(
        ["node", str(MEASURE), out_dir, ",".join(THEMES), *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return {Path(file).name: themes for file, themes in result.items()}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    missing = _renderer_missing()
    if missing:
        if os.environ.get("CUSTOMER_CARD_RENDER_REQUIRED") == "1":
            pytest.fail(f"cannot render cards: {missing}")
        pytest.skip(f"cannot render cards: {missing}")
    out = os.environ.get("CARD_SCREENSHOTS") or str(tmp_path_factory.mktemp("rendered"))
    return _measured(out)


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
        pinned = [box for element, box in card["ids"].items() if element.startswith("pinned-")]
        assert pinned and max(bottom for _, bottom in pinned) <= FIRST_SCREEN_PX, theme
        assert card["ids"][SEARCH_ID][1] <= FIRST_SCREEN_PX, theme


@pytest.mark.slow
def test_with_at_most_one_pinned_record_the_search_box_is_on_the_first_screen(
    rendered: dict[str, dict[str, Any]],
) -> None:
    for name, themes in rendered.items():
        ids = themes["light"]["ids"]
        if SEARCH_ID in ids and sum(1 for i in ids if i.startswith("pinned-")) <= 1:
            assert ids[SEARCH_ID][1] <= FIRST_SCREEN_PX, name


@pytest.mark.slow
def test_related_records_take_one_compact_row_each(rendered: dict[str, dict[str, Any]]) -> None:
    """Five related records under the pinned one cost less than the pinned one itself."""
    card = rendered["customer_demo_call.en.json"]["light"]
    (pinned,) = [box for element, box in card["ids"].items() if element.startswith("pinned-")]
    below_search = card["height"] - card["ids"][SEARCH_ID][1]
    assert below_search < 2 * (pinned[1] - pinned[0])
