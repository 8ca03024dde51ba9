"""``customer-card serve`` as a process of its own, started the way an operator starts it
(``python -m bot.cli serve``), for the tests and benchmarks that need real processes."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

__all__ = ["ROOT", "clean_environment", "free_port", "serve_command"]

ROOT = Path(__file__).resolve().parents[1]  # the source tree the service runs from


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(port: int, *, workers: int | None = None, host: str | None = None) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        *(("--host", host) if host else ()),
        "--port",
        str(port),
        *(("--workers", str(workers)) if workers is not None else ()),
    ]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without its ``CUSTOMER_CARD_*`` settings (a developer's
    own must not leak in), the source tree on ``PYTHONPATH``, and ``settings`` on top."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    return {**inherited, "PYTHONPATH": str(ROOT), **settings}
