"""The admin console in a real browser: a real ``customer-card serve`` (embedded defaults:
SQLite under a temporary directory, the demo CRM) driven in Debian's Chromium through
Playwright, with axe-core (npm, pinned in package.json; ``npm ci`` here, as ``.ci/run``
does) injected into each page for the accessibility checks. Nothing downloads at run time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.playground.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _wait_http

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE / "artifacts"  # screenshots of a run (git ignores them)
ADMIN_KEY = "console-admin-key-0123456789"
PLATFORM_KEY = "console-platform-key-0123456789"


def _install_axe() -> None:
    if AXE.exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the console's accessibility checks (Node.js ships it)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


@dataclass
class Served:
    url: str
    data_dir: Path
    log: Path


@contextlib.contextmanager
def serve(home: Path, **settings: str) -> Iterator[Served]:
    """``customer-card serve`` in ``home`` with these settings (``CUSTOMER_CARD_`` names)."""
    port = int(settings.pop("PORT", 0)) or _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({f"CUSTOMER_CARD_{name}": value for name, value in settings.items()})
    log = home / "service.log"
    with log.open("wb") as out:
        service = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", service, log)
        yield Served(f"http://127.0.0.1:{port}", home / "data", log)
    finally:
        service.terminate()
        service.wait(15)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    _install_axe()
    with serve(
        tmp_path_factory.mktemp("console-run"),
        ADMIN_API_KEYS=ADMIN_KEY,
        API_KEYS=PLATFORM_KEY,
        # a slow CRM (latency_ms over the timeout) fails a write at its first attempt
        CRM_TIMEOUT_SECONDS="2",
        MEMORIALIZATION_MAX_ATTEMPTS="1",
    ) as running:
        yield running


@pytest.fixture
async def browser(served: Served) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Any, locale: str = "en-US", *, inject: bool = True) -> Any:
    """``inject``: lets the test inject axe-core (the page's Content-Security-Policy is
    bypassed); without it the page runs under its own policy, as in a browser."""
    context = await browser.new_context(
        viewport={"width": 1100, "height": 900}, locale=locale, bypass_csp=inject
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def console(message: Any) -> None:
        # a 400 answer (a form with errors) or the favicon's 404 logs "Failed to load
        # resource"; anything else logged as an error is a script's
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", console)
    page.script_errors = errors
    return page


async def shot(page: Any, name: str) -> Path:
    """A screenshot to look at (PNG of the page's main part), under tests/console/artifacts."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.locator("main").screenshot(path=str(path), scale="css")
    return path


async def assert_accessible(page: Any) -> None:
    """axe-core over the page: no serious or critical violation (WCAG 2.1 A/AA rules)."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {json.dumps(bad, indent=1)}"
