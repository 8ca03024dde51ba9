"""``/api/v1/memorializations``: see the CRM writes and retry failed ones (platform or admin
API key).

    GET  /api/v1/memorializations?status=failed|pending|running|done&interactionId=&limit=&beforeId=
    GET  /api/v1/memorializations/{id}
    POST /api/v1/memorializations/{id}/retry

Answers never include the interaction data itself (transcripts, numbers): only which fields
were written, cut or skipped, and the last error.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from crm.errors import InputError

from ..api.inputs import INT64_MAX, whole_number
from ..api.openapi import Param, add_api_routes, api_route
from ..api.security import requires
from ..services import SERVICES
from ..storage.job_tables import JOB_STATUSES
from . import job_admin
from .job_admin import MemorializationList, MemorializationOut, job_out, retry

__all__ = ["MemorializationOut", "MemorializationList", "job_out", "add_routes"]

BASE = "/api/v1/memorializations"


def _json(model: BaseModel) -> web.Response:
    return web.json_response(model.model_dump(mode="json", by_alias=True))


def _int(value: str | None, name: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    return whole_number(value, name)


_JOB_ID = Param("id", "path", {"type": "integer", "minimum": 1, "maximum": INT64_MAX})


@api_route(
    "GET",
    BASE,
    summary="List memorialization jobs (query: status=failed|pending|"
    "running|done, interactionId, limit <= 500, beforeId), newest first",
    response=MemorializationList,
    tags=("memorialization",),
    errors=(400,),
    params=(
        Param("status", "query", {"type": "string", "enum": list(JOB_STATUSES)}),
        Param("interactionId", "query", {"type": "string"}),
        Param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": INT64_MAX, "default": 100},
            "Page size; more than 500 gives 500.",
        ),
        Param(
            "beforeId",
            "query",
            {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
            "The nextBeforeId of the previous page.",
        ),
    ),
)
@requires("platform")
async def list_memorializations(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in JOB_STATUSES:
        raise InputError(f"status must be one of {', '.join(JOB_STATUSES)}", field="status")
    limit = min(500, _int(request.query.get("limit"), "limit", 100) or 100)
    before_id = _int(request.query.get("beforeId"), "beforeId")
    async with request.app[SERVICES].sessions() as session:
        rows = await job_admin.list_jobs(
            session,
            status=status,
            limit=limit + 1,
            interaction_id=request.query.get("interactionId") or None,
            before_id=before_id,
        )
    page = rows[:limit]
    return _json(
        MemorializationList(
            memorializations=[job_out(row) for row in page],
            next_before_id=page[-1].id if len(rows) > limit else None,
        )
    )


def _job_id(request: web.Request) -> int:
    job_id = _int(request.match_info["id"], "id")
    assert job_id is not None
    return job_id


@api_route(
    "GET",
    BASE + "/{id}",
    summary="Read one memorialization job",
    response=MemorializationOut,
    tags=("memorialization",),
    errors=(400, 404),
    params=(_JOB_ID,),
)
@requires("platform")
async def get_memorialization(request: web.Request) -> web.Response:
    async with request.app[SERVICES].sessions() as session:
        return _json(job_out(await job_admin.get_job(session, _job_id(request))))


@api_route(
    "POST",
    BASE + "/{id}/retry",
    summary="Retry a failed (or waiting) memorialization job now, with a fresh set of attempts",
    response=MemorializationOut,
    tags=("memorialization",),
    errors=(400, 404, 409),
    params=(_JOB_ID,),
)
@requires("platform")
async def retry_memorialization(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return _json(await retry(services.sessions, services.memorialization, _job_id(request)))


def add_routes(app: web.Application) -> None:
    """Add the memorialization endpoints to ``app`` and its OpenAPI registry."""
    add_api_routes(app, list_memorializations, get_memorialization, retry_memorialization)
