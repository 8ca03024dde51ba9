"""``customer-card serve --workers 2``: real processes on one port, on PostgreSQL and SQLite.

The parent prepares an empty database once, the two children share the port (every request
below opens a new connection, so the kernel spreads them), each access-log line names the
worker that answered, ``/metrics`` on either shows the sum over both, a killed child is
replaced and SIGTERM stops everything. The Bot Connector is a fake in this process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import _app_rate
from bot.observability import logs
from bot.observability.connector_policy import PER_TENANT
from bot.storage.config_tables import ConfigurationRow
from bot.storage.db import create_engine, session_factory
from bot.workers import Supervisor, WorkerSlot
from tests.bot.activities import ANNA_AGENT, install
from tests.bot.conftest import started
from tests.postgres import POSTGRES_URL, throwaway_database
from tests.serving import clean_environment, free_port, serve_command

from .conftest import sample, series

API_KEY = "workers-platform-key-4a7c1e"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
METRICS_KEY = "workers-metrics-key-9d2f06"
SCRAPE = {"Authorization": f"Bearer {METRICS_KEY}"}
FRESH = {"Connection": "close"}  # a new connection per request: the kernel picks a worker
EVENTS = "customer_card_interaction_events_total"
READY = re.compile(r"Worker (\d+)/\d+ ready \(pid (\d+)\)")


@dataclass
class Service:
    process: asyncio.subprocess.Process
    port: int
    log: Path
    tmp: Path  # the service's TMPDIR: where its metrics directory lives

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def entries(self) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def ready(self) -> dict[int, int]:
        """Worker index -> pid of its latest child that reported it listens."""
        found: dict[int, int] = {}
        for entry in self.entries():
            if match := READY.fullmatch(entry["message"]):
                found[int(match[1])] = int(match[2])
        return found

    def workers_answering(self, path: str) -> set[str]:
        return {
            e["worker"]
            for e in self.entries()
            if e["logger"] == "aiohttp.access" and f" {path} " in e["message"]
        }

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-30:])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_database(request, tmp_path) -> AsyncIterator[str]:
    """An empty database (no migrations: the parent process applies them)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
        return
    async with throwaway_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
async def serve(tmp_path) -> AsyncIterator[Callable[..., Any]]:
    """Starts ``serve --workers N`` and waits until every worker listens; stops it after."""
    services: list[Service] = []

    async def start(database_url: str, workers: int = 2) -> Service:
        port, tmp = free_port(), tmp_path / "tmp"
        tmp.mkdir(exist_ok=True)
        env = clean_environment(
            TMPDIR=str(tmp),
            CUSTOMER_CARD_DATABASE_URL=database_url,
            CUSTOMER_CARD_DATA_DIR=str(tmp_path / "data"),
            CUSTOMER_CARD_API_KEYS=API_KEY,
            CUSTOMER_CARD_LOG_FORMAT="json",
            CUSTOMER_CARD_METRICS_API_KEYS=METRICS_KEY,
        )
        log = tmp_path / "service.log"
        with log.open("ab") as output:  # a file: a full pipe would stall the service
            process = await asyncio.create_subprocess_exec(
                *serve_command(port, workers=workers),
                env=env,
                cwd=tmp_path,
                stdout=output,
                stderr=output,
            )
        service = Service(process, port, log, tmp)
        services.append(service)
        await _until(
            lambda: len(service.ready()) == workers or process.returncode is not None,
            service,
            seconds=15,
        )
        assert process.returncode is None, service.tail()
        return service

    yield start
    for service in services:
        if service.process.returncode is None:
            service.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(service.process.wait(), 10)
            except TimeoutError:
                service.process.kill()  # its workers notice and stop themselves
                await service.process.wait()


async def _until(condition: Callable[[], object], service: Service, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the service's log:\n{service.tail()}")
        await asyncio.sleep(0.05)


async def _until_both_answer(service: Service, path: str, request: Callable[[], Any]) -> int:
    """Sends ``request`` (a new connection each) until both workers have answered one on
    ``path``; how many were sent. The kernel picks the worker: usually a few suffice."""
    for sent in range(1, 101):
        await request()
        if sent >= 4 and service.workers_answering(path) == {"1", "2"}:
            return sent
        await asyncio.sleep(0.01)  # the access-log line follows the answer
    raise AssertionError(f"one worker answered 100 requests on {path}:\n{service.tail()}")


async def _stop(service: Service) -> float:
    """SIGTERM; the seconds until the service exited (status 0)."""
    began = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(service.process.wait(), 10)
    assert code == 0, service.tail()
    return time.monotonic() - began


async def _default_configurations(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(
                await session.scalar(
                    select(func.count())
                    .select_from(ConfigurationRow)
                    .where(ConfigurationRow.is_default.is_(True))
                )
                or 0
            )
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_two_workers_share_the_port_the_work_and_the_metrics(
    serve, empty_database, connector, service_url
):
    service = await serve(empty_database)
    pids = service.ready()
    assert sorted(pids) == [1, 2] and len(set(pids.values())) == 2
    async with httpx.AsyncClient(base_url=service.url, headers=FRESH, timeout=10) as http:
        assert (await http.get("/readyz")).status_code == 200

        async def health() -> None:
            assert (await http.get("/healthz")).status_code == 200

        await _until_both_answer(service, "/healthz", health)

        # the whole path through whichever worker: install, event, card at the connector
        connector.members[ANNA_AGENT.teams_id] = ANNA_AGENT.member()
        response = await http.post("/api/messages", json=install(service_url, ANNA_AGENT))
        assert response.status_code in (200, 202), response.text
        response = await http.post(
            "/api/v1/interactions/events",
            headers=AUTH,
            json=started(ANNA_AGENT, number="+49 40 5550190"),
        )
        assert response.status_code == 202, response.text
        posted = await connector.wait_for(
            lambda calls: [
                c for c in calls if c.method == "POST" and c.card and c.card.get("msteams")
            ],
            seconds=15,
        )
        assert "Klaus Wagner" in json.dumps(posted[0].card)

        # events spread over both workers; a scrape of either counts them all
        async def invalid_event() -> None:
            response = await http.post(
                "/api/v1/interactions/events", headers=AUTH, json={"type": "started"}
            )
            assert response.status_code == 400

        invalid = await _until_both_answer(service, "/api/v1/interactions/events", invalid_event)

        async def scrape() -> None:
            text = (await http.get("/metrics", headers=SCRAPE)).text
            assert sample(text, EVENTS, type="invalid", outcome="invalid_field") == invalid
            assert sample(text, EVENTS, type="started", outcome="accepted") == 1
            assert (
                sample(
                    text,
                    "customer_card_activities_total",
                    type="installationUpdate",
                    name="",
                    outcome="ok",
                )
                == 1
            )
            jobs = series(text, "customer_card_memorialization_jobs")
            assert sorted(s["state"] for s in jobs) == ["done", "failed", "pending", "running"]

        await _until_both_answer(service, "/metrics", scrape)

    assert await _default_configurations(empty_database) == 1  # made once, by the parent
    assert await _stop(service) < 5
    assert not list(service.tmp.iterdir())  # the metrics directory is gone


@pytest.mark.slow
async def test_a_killed_worker_is_replaced_and_its_counts_are_kept(serve, tmp_path):
    service = await serve(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    first = service.ready()
    async with httpx.AsyncClient(base_url=service.url, headers=FRESH, timeout=10) as http:

        async def invalid_event() -> None:
            await http.post("/api/v1/interactions/events", headers=AUTH, json={"type": "x"})

        invalid = await _until_both_answer(service, "/api/v1/interactions/events", invalid_event)

        os.kill(first[1], signal.SIGKILL)
        await _until(lambda: service.ready().get(1, first[1]) != first[1], service, 10)
        assert service.ready()[2] == first[2]
        assert any("exited with status -9" in e["message"] for e in service.entries())
        for _ in range(6):  # both answer again, and what the killed one counted still counts
            text = (await http.get("/metrics", headers=SCRAPE)).text
            assert sample(text, EVENTS, type="invalid", outcome="invalid_field") == invalid
    await _stop(service)


@pytest.mark.slow
async def test_a_port_in_use_stops_the_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            *serve_command(port, workers=2),
            env=clean_environment(CUSTOMER_CARD_DATA_DIR=str(tmp_path)),
            cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 1
    assert b"Cannot listen on 127.0.0.1" in stderr


async def test_the_supervisor_gives_up_when_workers_keep_dying_at_start():
    exited: list[int] = []
    supervisor = Supervisor(
        lambda slot, fd: [sys.executable, "-c", "raise SystemExit(3)"],
        2,
        on_exit=exited.append,
        backoff_base=0.01,
        max_failed_starts=3,
    )
    assert await asyncio.wait_for(supervisor.run(), 10) == 1
    assert 3 <= len(exited) <= 6  # each slot: three starts, or fewer once the other gave up


async def test_the_supervisor_forwards_a_stop_and_waits(caplog):
    caplog.set_level("INFO", "bot.workers")
    ready = "import os,sys,time; os.write(int(sys.argv[1]), b'r'); time.sleep(30)"
    exited: list[int] = []
    supervisor = Supervisor(
        lambda slot, fd: [sys.executable, "-c", ready, str(fd)], 2, on_exit=exited.append
    )
    running = asyncio.create_task(supervisor.run())
    for _ in range(250):
        if caplog.text.count(" ready (pid ") == 2:
            break
        await asyncio.sleep(0.02)
    supervisor.stop()
    assert await asyncio.wait_for(running, 5) == 0
    assert caplog.text.count(" ready (pid ") == 2 and len(exited) == 2


def test_each_worker_gets_its_share_of_the_connector_rate():
    assert _app_rate(None, 50) == PER_TENANT == (50, 1.0)
    assert _app_rate(WorkerSlot(1, 2), 50) == (25, 1.0)
    assert _app_rate(WorkerSlot(3, 3), 50) == (16, 1.0)
    assert _app_rate(WorkerSlot(1, 64), 50) == (1, 1.0)
    assert _app_rate(WorkerSlot(1, 2), 30) == (15, 1.0)  # CUSTOMER_CARD_CONNECTOR_TENANT_RATE


def test_worker_slots_parse():
    assert WorkerSlot.parse("2/4") == WorkerSlot(2, 4) and str(WorkerSlot(2, 4)) == "2/4"
    with pytest.raises(ValueError):
        WorkerSlot.parse("5/4")


def test_a_worker_names_itself_on_every_line(monkeypatch):
    import logging

    monkeypatch.setattr(logs, "_process", {})
    logs.set_process_context(worker="2")
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello", None, None)
    logs.RedactingFilter().filter(record)
    assert json.loads(logs.JsonFormatter().format(record))["worker"] == "2"
    with logs.log_context(interaction_id="ix-1"):
        record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello", None, None)
        logs.RedactingFilter().filter(record)
    assert record.cc_context == {"worker": "2", "interaction_id": "ix-1"}
