"""A person at the command line gets one line for what they can fix, never a traceback:
a bad setting names its environment variable, a database that cannot be reached is named
without its password, a server that is not running is said to be not running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the probe goes


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env={**inherited, "PYTHONPATH": str(ROOT), "CUSTOMER_CARD_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("customer-card: ")]
    assert len(errors) == 1, run.stderr
    return errors[0]


def test_a_bad_setting_names_its_environment_variable(tmp_path: Path) -> None:
    line = _one_line(_cli(tmp_path, "serve", CUSTOMER_CARD_PORT="abc"))
    assert "CUSTOMER_CARD_PORT" in line and "'abc'" in line


def test_a_bad_secret_setting_is_named_but_not_echoed(tmp_path: Path) -> None:
    run = _cli(tmp_path, "db", "upgrade", CUSTOMER_CARD_MAX_BODY_BYTES="many")
    assert "CUSTOMER_CARD_MAX_BODY_BYTES" in _one_line(run)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--port", "0"]])
def test_an_unreachable_database_is_one_line_without_its_password(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql+asyncpg://cc:very-secret-pw@127.0.0.1:{_closed_port()}/cc"
    run = _cli(tmp_path, *command, CUSTOMER_CARD_DATABASE_URL=url)
    line = _one_line(run)
    assert "cannot reach the database postgresql+asyncpg://cc:***@127.0.0.1" in line
    assert "very-secret-pw" not in run.stderr + run.stdout


@pytest.mark.parametrize("url", ["mysql://x/y", "postgresql://x/y", "not a url"])
def test_a_database_url_the_service_cannot_use_is_one_line(tmp_path: Path, url: str) -> None:
    line = _one_line(_cli(tmp_path, "db", "upgrade", CUSTOMER_CARD_DATABASE_URL=url))
    assert line.startswith("customer-card: CUSTOMER_CARD_DATABASE_URL: ")
    assert "sqlite+aiosqlite or postgresql+asyncpg" in line or "not a database URL" in line


def test_simulate_against_a_server_that_is_not_running_says_so(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    run = _cli(tmp_path, "simulate", "--api-key", "k", "--url", url, "call", "+49 30 1234567")
    assert "is `customer-card serve` running?" in _one_line(run)
