"""Golden files pin the exact JSON of every card. Regenerate: UPDATE_GOLDEN=1 pytest tests/cards."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cards import pick_locale
from tests.cards.samples import CARDS, LOCALES, PAYLOADS

GOLDEN = Path(__file__).parent / "golden"
BUILDERS: dict[str, Callable[[str], dict[str, Any]]] = {**CARDS, **PAYLOADS}


def _render(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_card_matches_golden_file(name: str, locale: str) -> None:
    path = GOLDEN / f"{name}.{pick_locale(locale)}.json"
    actual = _render(BUILDERS[name](locale))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path.name}: run with UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_no_stale_golden_files() -> None:
    expected = {f"{name}.{pick_locale(loc)}.json" for name in BUILDERS for loc in LOCALES}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected
