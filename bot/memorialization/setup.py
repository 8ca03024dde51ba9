"""Wiring into the service: ``setup_memorialization(app)`` in ``create_app`` adds the
``/api/v1/memorializations`` routes. The worker and the interactions service's event hook
are built with the other services at start-up (:mod:`bot.startup`), which starts the
worker once the database is there and stops it (jobs in flight finish or are handed back)
before the database closes.
"""

from __future__ import annotations

from aiohttp import web

from .api import add_routes

__all__ = ["setup_memorialization"]


def setup_memorialization(app: web.Application) -> None:
    add_routes(app)
