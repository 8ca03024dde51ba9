"""The benchmarked service: ``customer-card serve`` in a child process, on 127.0.0.1, with
its CPU time and peak memory read from /proc (parent and workers)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp

from tests.serving import ROOT, free_port, serve_command

__all__ = ["ADMIN_KEY", "KEY", "Service"]

KEY = "bench-key"
ADMIN_KEY = "bench-admin-key"


class Service:
    """``customer-card serve`` in a child process, with its CPU time and peak memory."""

    def __init__(
        self, database_url: str, workdir: Path, crm_url: str = "", workers: int = 1
    ) -> None:
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "service.log"
        self.env = {
            **os.environ,
            "CUSTOMER_CARD_DATA_DIR": str(workdir / "data"),
            "CUSTOMER_CARD_API_KEYS": KEY,
            "CUSTOMER_CARD_ADMIN_API_KEYS": ADMIN_KEY,
            "CUSTOMER_CARD_DATABASE_URL": database_url,
            "CUSTOMER_CARD_LOG_LEVEL": "WARNING",
            "CUSTOMER_CARD_APP_ID": "",
        }
        if crm_url:  # the demo CRM's own tables (default: SQLite under the data directory)
            self.env["CUSTOMER_CARD_DEMO_CRM_URL"] = crm_url
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *serve_command(self.port, workers=self.workers, host="127.0.0.1"),
                env=self.env,
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # up to 30 s for migrations and start-up
                if self.process.returncode is not None:
                    break
                try:
                    async with http.get(f"{self.base}/healthz") as response:
                        if response.status == 200 and self._started():
                            if self.workers > 1:  # all started, /healthz reached one: let
                                await asyncio.sleep(2)  # the others finish starting
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise SystemExit(
            f"the service did not start; see {self.log}:\n" + self.log.read_text()[-3000:]
        )

    def _pids(self) -> list[int]:
        """The service process and, with --workers, its worker processes (after it)."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [pid, *map(int, children)]

    def _started(self) -> bool:
        if self.workers == 1:
            return True
        return len(self._pids()) == 1 + self.workers  # /healthz reached one of them

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self._pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def peak_mb(self) -> float:
        total = 0.0
        for pid in self._pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        return total

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
