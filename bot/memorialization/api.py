"""``/api/v1/memorializations``: see the CRM writes and retry failed ones (platform or admin
API key).

    GET  /api/v1/memorializations?status=failed|pending|running|done&interactionId=&limit=&beforeId=
    GET  /api/v1/memorializations/{id}
    POST /api/v1/memorializations/{id}/retry

Answers never include the interaction data itself (transcripts, numbers): only which fields
were written, cut or skipped, and the last error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from crm.errors import InputError

from ..api.inputs import INT64_MAX, whole_number
from ..api.openapi import Param, add_api_routes, api_route
from ..api.security import requires
from ..services import SERVICES
from ..storage.job_tables import JOB_STATUSES, MemorializationJobRow
from . import outbox

__all__ = ["MemorializationOut", "MemorializationList", "job_out", "add_routes"]

BASE = "/api/v1/memorializations"


class _Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class MemorializationOut(_Out):
    id: int
    interaction_id: str
    configuration_id: str
    record_type: str
    record_id: str
    trigger: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = None  # pending jobs: not before this time
    last_error: str | None = None
    last_error_code: str | None = None
    timeline_id: str | None = None
    fields: list[str] = Field(default_factory=list)  # fields written
    truncated: list[dict[str, Any]] = Field(default_factory=list)
    skipped: list[dict[str, Any]] = Field(default_factory=list)
    superseded_by: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None


class MemorializationList(_Out):
    memorializations: list[MemorializationOut]
    next_before_id: int | None = None  # pass as beforeId for the next page


def job_out(row: MemorializationJobRow) -> MemorializationOut:
    result = row.result or {}
    return MemorializationOut(
        id=row.id,
        interaction_id=row.interaction_id,
        configuration_id=row.configuration_id,
        record_type=row.record_type,
        record_id=row.record_id,
        trigger=row.trigger,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=(
            datetime.fromtimestamp(row.available_at, UTC) if row.status == "pending" else None
        ),
        last_error=row.last_error,
        last_error_code=row.last_error_code,
        timeline_id=row.timeline_id,
        fields=list(result.get("fields", [])),
        truncated=list(result.get("truncated", [])),
        skipped=list(result.get("skipped", [])),
        superseded_by=result.get("supersededBy"),
        created_at=row.created_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
    )


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
        rows = await outbox.list_jobs(
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
        return _json(job_out(await outbox.get_job(session, _job_id(request))))


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
    async with services.sessions() as session, session.begin():
        row = await outbox.retry_job(session, _job_id(request))
        body = job_out(row)
    services.memorialization.notify()
    return _json(body)


def add_routes(app: web.Application) -> None:
    """Add the memorialization endpoints to ``app`` and its OpenAPI registry."""
    add_api_routes(app, list_memorializations, get_memorialization, retry_memorialization)
