"""Rendering cards as Teams draws them, for tests: ``render/measure.js`` (Microsoft's
Adaptive Cards renderer in headless Chromium, Teams host configs) run on card files.

Needs node, Debian's chromium and ``npm install`` in ``tests/cards/render`` (``.ci/run``
does both); ``renderer_or_skip`` skips a test without them, unless
``CUSTOMER_CARD_RENDER_REQUIRED=1`` (set in CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

MEASURE = Path(__file__).parent / "render" / "measure.js"
THEMES = ("light", "dark", "contrast")
FIRST_SCREEN_PX = 600  # what Teams shows of a card without scrolling, about


def _modules_installed() -> bool:
    candidates = [
        os.environ.get("CARD_RENDER_MODULES", ""),
        str(MEASURE.parent / "node_modules"),
        str(Path.home() / ".cache" / "customer-card-tools" / "node_modules"),
    ]
    return any(c and (Path(c) / "adaptivecards").is_dir() for c in candidates)


def _renderer_missing() -> str:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists():
        return "chromium is not installed"
    return "" if _modules_installed() else "npm install in tests/cards/render has not run"


def renderer_or_skip() -> None:
    missing = _renderer_missing()
    if missing:
        if os.environ.get("CUSTOMER_CARD_RENDER_REQUIRED") == "1":
            pytest.fail(f"cannot render cards: {missing}")
        pytest.skip(f"cannot render cards: {missing}")


def measure(files: Sequence[Path], out_dir: Path) -> dict[str, dict[str, Any]]:
    """File name -> theme -> ``{height, errors, ids: {element id: [top, bottom]}}`` (px
    from the card's top at Teams' width); PNGs ``<name>.<theme>.png`` go to ``out_dir``."""
    done = subprocess.run(
        ["node", str(MEASURE), str(out_dir), ",".join(THEMES), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return {Path(file).name: themes for file, themes in result.items()}


def pinned_boxes(rendered: dict[str, Any]) -> list[list[int]]:
    """[top, bottom] of each pinned record block of one rendered card."""
    return [box for element, box in rendered["ids"].items() if element.startswith("pinned-")]
