"""``customer-card serve --workers N``: N processes serving one port.

The parent process prepares what must happen once (migrations, the secret key file, the
default configuration), then starts N children, ``python -m bot.cli serve --worker-of I/N``.
Each runs the whole aiohttp app and binds the same host and port with ``SO_REUSEPORT``,
so the kernel spreads new connections over them. The parent serves nothing; it:

* forwards SIGTERM and SIGINT to the children once (a second signal kills them) and waits
  while each drains its card updates and memorialization jobs, as a single process does;
* restarts a child that exits unexpectedly, after a back-off that grows while children keep
  exiting soon after their start, and gives up (exit status 1) when a child fails
  ``MAX_FAILED_STARTS`` times in a row before it listens (the port taken, a bad setting);
* gives the children one ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory,
  removed at the end), so a scrape of any child shows the sum over all of them.

Children run in their own session, so a terminal's Ctrl+C reaches only the parent (which
forwards it): a second SIGINT would cut a child's drain short. A child that outlives its
parent stops itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from .settings import Settings

__all__ = ["WorkerSlot", "Supervisor", "supervise", "serve_worker"]

log = logging.getLogger(__name__)

MAX_FAILED_STARTS = 5  # children dying before they listen, in a row, before the parent gives up
BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS = 0.5, 30.0
STABLE_SECONDS = 60.0  # a child that ran this long resets the back-off
_READY = b"r"


@dataclass(frozen=True)
class WorkerSlot:
    """Worker ``index`` (1..``count``) of ``serve --workers count``; a restarted child
    keeps its slot."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> WorkerSlot:
        index, _, count = text.partition("/")
        slot = cls(int(index), int(count))
        if not 1 <= slot.index <= slot.count:
            raise ValueError(f"worker {text!r}: expected INDEX/COUNT with 1 <= INDEX <= COUNT")
        return slot

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


# --- the parent -------------------------------------------------------------------------


def supervise(settings: Settings, host: str, port: int, count: int) -> int:
    """Run ``count`` workers on ``host:port`` until SIGTERM/SIGINT; the exit status."""
    try:
        _ensure_port_free(host, port)
    except OSError as exc:
        log.error("Cannot listen on %s:%s: %s", host, port, exc.strerror or exc)
        return 1
    asyncio.run(_prepare(settings))
    metrics_dir = tempfile.mkdtemp(prefix="customer-card-metrics-")
    try:
        supervisor = Supervisor(
            lambda slot, ready_fd: [
                sys.executable,
                "-m",
                "bot.cli",
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--worker-of",
                str(slot),
                "--ready-fd",
                str(ready_fd),
            ],
            count,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir},
            on_exit=lambda pid: _mark_process_dead(pid, metrics_dir),
            stop_timeout=settings.memorialization_grace_seconds + 60,
            on_ready=lambda: log_listening(host, port, count),
        )
        return asyncio.run(supervisor.run())
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def log_listening(host: str, port: int, workers: int = 1) -> None:
    """The last start-up line, once the port is bound and the service answers."""
    log.info(
        "Listening on http://%s:%s%s (Bot Framework endpoint: /api/messages; admin console: "
        "/admin/)",
        host,
        port,
        f" with {workers} workers" if workers > 1 else "",
    )


def _ensure_port_free(host: str, port: int) -> None:
    """OSError when something listens on the port already. The children's SO_REUSEPORT
    would otherwise share it, silently, with another server started with that option."""
    if not port:
        raise OSError(0, "--workers needs a fixed port")
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)


async def _prepare(settings: Settings) -> None:
    """What the workers must not each do: migrate, create the key file that encrypts CRM
    secrets at rest (workers starting together could read it half-written) and the
    default configuration (on SQLite each could make one)."""
    import httpx

    from crm.secrets import load_secret_box

    from .crm_directory import CrmDirectory
    from .startup import log_storage
    from .storage.db import create_engine, session_factory, upgrade_database

    url = settings.effective_database_url
    log_storage(settings)
    log.info("Applying database migrations")
    await upgrade_database(url)
    log.info("Database schema up to date")
    load_secret_box(settings.secret_key.get_secret_value(), settings.data_dir)
    engine = create_engine(url)
    try:
        async with httpx.AsyncClient() as http:
            directory = CrmDirectory(session_factory(engine), settings, http)
            await directory.ensure_default()
            await directory.aclose()
    finally:
        await engine.dispose()


def _mark_process_dead(pid: int, metrics_dir: str) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, metrics_dir)  # drops its live gauges; counters stay


@dataclass
class _Child:
    slot: WorkerSlot
    process: asyncio.subprocess.Process
    ready_fd: int
    started: float
    ready: bool = False


class Supervisor:
    """Keeps ``count`` children of ``command(slot, ready_fd)`` running until stopped.

    A child reports that it listens by writing to ``ready_fd`` (:func:`serve_worker`).
    ``on_exit(pid)`` runs for every child that exited."""

    def __init__(
        self,
        command: Callable[[WorkerSlot, int], Sequence[str]],
        count: int,
        *,
        env: Mapping[str, str] | None = None,
        on_exit: Callable[[int], None] | None = None,
        stop_timeout: float = 70.0,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        backoff_max: float = BACKOFF_MAX_SECONDS,
        max_failed_starts: int = MAX_FAILED_STARTS,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self._command, self._count, self._env = command, count, env
        self._on_ready = on_ready  # once, when every worker listens the first time
        self._on_exit = on_exit
        self._stop_timeout = stop_timeout
        self._backoff_base, self._backoff_max = backoff_base, backoff_max
        self._max_failed_starts = max_failed_starts
        self._children: dict[int, _Child] = {}  # slot index -> running child
        self._stopping = asyncio.Event()
        self._signal = signal.SIGTERM
        self._failed = False

    async def run(self) -> int:
        """0 once stopped by a signal, 1 after giving up or when children had to be killed."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop, signum)
        try:
            slots = [
                asyncio.create_task(self._keep(WorkerSlot(i, self._count)))
                for i in range(1, self._count + 1)
            ]
            for task in slots:
                task.add_done_callback(self._slot_ended)
            await self._stopping.wait()
            _, running = await asyncio.wait(slots, timeout=self._stop_timeout)
            if running:
                log.error("Workers still running after %.0f s: killing them", self._stop_timeout)
                self._failed = True
                self._send(signal.SIGKILL)
                await asyncio.wait(running)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        log.info("All workers stopped")
        return 1 if self._failed else 0

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Forward ``signum`` to the children and stop restarting them; a second call kills."""
        if self._stopping.is_set():
            log.warning("Stopping already: killing the workers")
            self._send(signal.SIGKILL)
            return
        log.info("Stopping %d workers (%s)", len(self._children), signal.Signals(signum).name)
        self._signal = signal.Signals(signum)
        self._stopping.set()
        self._send(self._signal)

    def _send(self, signum: int) -> None:
        for child in self._children.values():
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signum)

    async def _keep(self, slot: WorkerSlot) -> None:
        """Run the slot's child, again and again until stopped or its starts keep failing."""
        failed_starts = quick_exits = 0
        while not self._stopping.is_set():
            child = await self._spawn(slot)
            code = await child.process.wait()
            self._exited(child)
            if self._stopping.is_set():
                return
            failed_starts = 0 if child.ready else failed_starts + 1
            quick = time.monotonic() - child.started < STABLE_SECONDS
            quick_exits = quick_exits + 1 if quick else 0
            if failed_starts >= self._max_failed_starts:
                log.error(
                    "Worker %s exited before listening %d times in a row (last exit "
                    "status %s): giving up",
                    slot,
                    failed_starts,
                    code,
                )
                self._failed = True
                self.stop()
                return
            delay = min(self._backoff_max, self._backoff_base * 2 ** max(0, quick_exits - 1))
            log.warning(
                "Worker %s (pid %d) exited with status %s%s; restarting in %.1f s",
                slot,
                child.process.pid,
                code,
                "" if child.ready else " before listening",
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _spawn(self, slot: WorkerSlot) -> _Child:
        read_fd, write_fd = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command(slot, write_fd),
                env=self._env,
                pass_fds=(write_fd,),
                start_new_session=True,
            )  # the terminal's Ctrl+C goes to the parent only
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)  # the child's copy is the only writer: EOF when it exits
        child = _Child(slot, process, read_fd, time.monotonic())
        self._children[slot.index] = child
        log.info("Worker %s started (pid %d)", slot, process.pid)
        asyncio.get_running_loop().add_reader(read_fd, self._read_ready, child)
        if self._stopping.is_set():  # stopped while it was being started
            process.send_signal(self._signal)
        return child

    def _read_ready(self, child: _Child) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(child.ready_fd)
        if os.read(child.ready_fd, 1) == _READY:  # b"" when it exited first
            child.ready = True
            log.info("Worker %s ready (pid %d)", child.slot, child.process.pid)
            ready = [c for c in self._children.values() if c.ready]
            if self._on_ready is not None and len(ready) == self._count:
                self._on_ready()
                self._on_ready = None

    def _exited(self, child: _Child) -> None:
        if not child.ready:  # its report, if any, may not have been read yet
            self._read_ready(child)
        os.close(child.ready_fd)
        self._children.pop(child.slot.index, None)
        if self._on_exit is not None:
            self._on_exit(child.process.pid)

    def _slot_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("Supervising a worker failed", exc_info=task.exception())
            self._failed = True
            self.stop()


# --- a child ----------------------------------------------------------------------------


def serve_worker(
    settings: Settings, host: str, port: int, slot: WorkerSlot, ready_fd: int | None
) -> int:
    """Run the app as worker ``slot``: ``SO_REUSEPORT`` on ``host:port``, no migrations
    (the parent applied them); writes to ``ready_fd`` once it listens."""
    from aiohttp import web

    from . import heap
    from .app import create_app
    from .observability.logs import set_process_context

    set_process_context(worker=str(slot.index))
    app = create_app(settings, worker=slot)
    app.cleanup_ctx.append(_stop_without_parent(os.getppid()))
    app.on_startup.append(heap.settle)

    def listening(_banner: str) -> None:  # aiohttp "prints" its banner once the port is bound
        _stop_on_first_signal(asyncio.get_running_loop())
        if ready_fd is not None:
            os.write(ready_fd, _READY)
            os.close(ready_fd)

    web.run_app(app, host=host, port=port, reuse_port=True, print=listening)
    return 0


def _stop_on_first_signal(loop: asyncio.AbstractEventLoop) -> None:
    """Replace aiohttp's handlers, which raise GracefulExit on every signal: a second one (a
    service manager signalling the whole group after the parent forwarded the first) would
    cut the drain short."""
    from aiohttp.web import GracefulExit

    def stop() -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: None)
        raise GracefulExit()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)


def _stop_without_parent(parent: int) -> Callable[[web.Application], AsyncIterator[None]]:
    async def watch() -> None:
        while os.getppid() == parent:  # noqa: ASYNC110  (no event tells of a parent's death)
            await asyncio.sleep(1)
        log.error("The parent process %d is gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()

    return lifecycle
