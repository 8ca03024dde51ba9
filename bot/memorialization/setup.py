"""Wiring into the service: ``setup_memorialization(app)`` in ``create_app``, after the
core lifecycle is registered.

It adds the ``/api/v1/memorializations`` routes and, while the app runs, a worker plus the
interactions service's event hook. The worker stops (jobs in flight finish or are handed
back) before the core lifecycle closes the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from ..services import SERVICES, Services
from .api import WORKER_KEY, add_routes
from .hook import MemorializationHook
from .worker import MemorializationWorker, WorkerOptions

__all__ = ["setup_memorialization"]

ChangeListener = Callable[[Services], Callable[[str], object]]


def setup_memorialization(app: web.Application, on_change: ChangeListener | None = None) -> None:
    """``on_change(services)`` gives the callable told an interaction id when one of its
    jobs failed or recovered (the card sync's ``schedule``, so the card's note follows)."""
    add_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        worker = MemorializationWorker(
            services.sessions,
            services.directory.adapter,
            WorkerOptions.from_settings(services.settings),
            on_change=on_change(services) if on_change else None,
        )
        services.extras[WORKER_KEY] = worker
        services.interactions.event_hooks.append(
            MemorializationHook(services.directory.memorialization_mapping, worker=worker)
        )
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()

    # cleanup contexts unwind in reverse: registered after the core one, this stops first
    app.cleanup_ctx.append(lifecycle)
