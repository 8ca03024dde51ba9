"""The CRM stand-in of the benchmarks, in its own process: the HubSpot simulator of the tests
(``tests/crm/sim_hubspot.py``: HubSpot's wire format, seeded with ``tests/crm/dataset.py``'s
people, whose Anna Schmidt is the benchmarks' caller ``+49 30 1234567``) on 127.0.0.1, each
request answered after a fixed latency, as a CRM across the network would.

Run on its own it prints ``port N`` once it listens and serves until it is terminated:

    .venv/bin/python bench/crm_process.py --latency-ms 100

``CrmProcess`` starts it from a benchmark and reads its CPU time from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

_SCRIPT = Path(__file__).resolve()
_ROOT = _SCRIPT.parent.parent
sys.path.insert(0, str(_ROOT))

from tests.crm.sim_hubspot import PORTAL_ID, TOKEN, HubSpotSim  # noqa: E402

__all__ = ["CrmProcess"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CrmProcess:
    """The simulator in a child process; ``configuration()`` is the service's CRM
    configuration (admin API body) that points at it."""

    def __init__(self, latency_ms: float, log: Path) -> None:
        self.latency_ms = latency_ms
        self.log = log  # its stderr (requests the service gave up on, e.g. at its timeout)
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(_SCRIPT),
                "--latency-ms",
                str(self.latency_ms),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=_ROOT,
            )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        if not line.startswith(b"port "):
            raise SystemExit(f"the CRM process did not start: {line!r}")
        self.port = int(line.split()[1])

    def configuration(self) -> dict[str, Any]:
        return {
            "name": "HubSpot (simulator, own process)",
            "type": "hubspot",
            "isDefault": True,
            "settings": {
                "account_id": PORTAL_ID,
                "api_base": f"http://127.0.0.1:{self.port}",
                "external_screenpop_domain_hs": "app-eu1.hubspot.com",
            },
            "secrets": {"access_token": TOKEN},
        }

    def cpu_seconds(self) -> float:
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _latency(seconds: float) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def latency(request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await handler(request)

    return latency


async def _serve(latency_ms: float) -> None:
    sim = HubSpotSim()
    sim.seed()
    sim.requests = _NoLog()  # a long run would keep every request
    app = sim.app()
    app.middlewares.insert(0, _latency(latency_ms / 1000))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"port {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


class _NoLog(list[tuple[str, str, Any]]):
    def append(self, _item: tuple[str, str, Any]) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=100)
    asyncio.run(_serve(parser.parse_args().latency_ms))


if __name__ == "__main__":
    main()
