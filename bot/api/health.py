"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..services import SERVICES
from .errors import error_response
from .openapi import add_api_routes, api_route

__all__ = ["setup_health_routes"]

log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str


@api_route(
    "GET",
    "/healthz",
    summary="Liveness: the process answers",
    response=Health,
    tags=("health",),
    public=True,
)
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@api_route(
    "GET",
    "/readyz",
    summary="Readiness: the database is reachable",
    response=Health,
    tags=("health",),
    errors=(503,),
    public=True,
)
async def readyz(request: web.Request) -> web.Response:
    try:
        async with request.app[SERVICES].engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("Database not reachable: %s", type(exc).__name__)
        return error_response(503, "database_unavailable", "The database is not reachable.")
    return web.json_response({"status": "ok"})


def setup_health_routes(app: web.Application) -> None:
    add_api_routes(app, healthz, readyz)
