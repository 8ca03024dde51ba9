"""``customer-card serve`` says what it is doing: data directory, the database without its
credentials, migrations, configurations, app id or anonymous mode, and the listening
address last, once it answers; the shutdown is logged too."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-" + "5e4d3c2b1a"  # the test server trusts every login; the log must not show it


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _messages(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.postgres
async def test_start_up_and_shutdown_lines(tmp_path: Path, empty_postgres_url: str) -> None:
    url = make_url(empty_postgres_url).set(password=PASSWORD)
    port, log = _free_port(), tmp_path / "service.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "CUSTOMER_CARD_DATABASE_URL": url.render_as_string(hide_password=False),
        "CUSTOMER_CARD_DATA_DIR": str(tmp_path / "data"),
        "CUSTOMER_CARD_LOG_LEVEL": "INFO",
    }
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
            env=env, cwd=tmp_path, stdout=output, stderr=output,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not any("Listening on" in line for line in _messages(log)):
            assert process.returncode is None and time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.05)
        started = _messages(log)
        async with httpx.AsyncClient() as client:  # ready when it says so
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
    order = [
        "starting",
        "Data directory: " + str(tmp_path / "data"),
        f"Database: postgresql+asyncpg://{url.host}:{url.port}/{url.database}",
        "Applying database migrations",
        "Database schema up to date",
        "CRM configurations: 1 (1 active); default: ",
        "UNAUTHENTICATED",
        f"Listening on http://127.0.0.1:{port}",
    ]
    positions = [next(i for i, line in enumerate(started) if part in line) for part in order]
    assert positions == sorted(positions), started
    assert "Listening on" in started[-1]
    everything = log.read_text()
    assert PASSWORD not in everything and f"//{url.username}" not in everything
    stopped = _messages(log)[len(started) :]
    for part in ("Shutting down", "Shut down", "Customer Card stopped"):
        assert any(part in line for line in stopped), stopped
