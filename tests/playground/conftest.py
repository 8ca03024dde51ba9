"""Microsoft 365 Agents Playground (the real npm package, pinned in package.json) against a
real ``customer-card serve`` on its embedded defaults, driven in Debian's Chromium through
Playwright: the README's walk-through as a new user follows it.

The set-up installs the Playground with ``npm ci`` when it is missing (``.ci/run`` does so
too). Chromium is Debian's (``apt-get install chromium``); nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CLI = HERE / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = HERE / "artifacts"  # screenshots of a run (git ignores them)
# What this machine's Chromium needs (no network, root, no GPU): see docs/local-testing.md.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def _install_playground() -> None:
    if CLI.exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Playground tests (Node.js ships it)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


class Servers:
    def __init__(self, service_url: str, playground_url: str, service_log: Path) -> None:
        self.service_url = service_url
        self.playground_url = playground_url
        self.service_log = service_log


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    _install_playground()
    home = tmp_path_factory.mktemp("playground-run")
    service_port, playground_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    service_log, playground_log = home / "service.log", home / "playground.log"
    with service_log.open("wb") as out:
        service = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(service_port)],
            cwd=home,  # the README's embedded defaults: ./data, SQLite, demo CRM, anonymous
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=out,
        )
    try:
        _wait_http(f"http://127.0.0.1:{service_port}/healthz", service, service_log)
        with playground_log.open("wb") as out:
            playground = subprocess.Popen(
                [
                    "node",
                    str(CLI),
                    "-e",
                    f"http://127.0.0.1:{service_port}/api/messages",
                    "-c",
                    "msteams",
                    "-p",
                    str(playground_port),
                    "--disable-telemetry",
                ],
                cwd=ROOT,  # reads the checked-in .m365agentsplayground.yml, as the README says
                env={**env, "TEAMSAPPTESTER_BROWSER": "none"},
                stdout=out,
                stderr=out,
            )
        try:
            _wait_http(f"http://127.0.0.1:{playground_port}/", playground, playground_log)
            yield Servers(
                f"http://127.0.0.1:{service_port}",
                f"http://127.0.0.1:{playground_port}",
                service_log,
            )
        finally:
            playground.terminate()
            playground.wait(10)
    finally:
        service.terminate()
        service.wait(15)


@pytest.fixture(scope="session")
def chromium() -> str:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    return CHROMIUM


@pytest.fixture
async def page(servers: Servers, chromium: str) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1400})
            await page.goto(servers.playground_url)
            yield page
        finally:
            await browser.close()
