"""``GET /api/v1/audit``: the audit trail (admin key): who changed what, when, through the
admin API, the console or ``config apply``. Rows name the attributes that changed, never
their values."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from crm.errors import InputError

from ..audit import AuditEvent, list_events
from ..services import SERVICES
from .openapi import add_api_routes, api_route
from .security import requires

__all__ = ["add_routes", "AuditList"]


class AuditList(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    events: list[AuditEvent]
    next_before_id: int | None = None  # pass as beforeId for the next page


def _positive(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{name} must be a whole number of at least 1", field=name)
    return int(value)


@api_route(
    "GET",
    "/api/v1/audit",
    summary="The audit trail, newest first (query: configurationId, limit <= 500, beforeId)",
    response=AuditList,
    tags=("admin",),
    errors=(400,),
)
@requires("admin")
async def list_audit(request: web.Request) -> web.Response:
    limit = min(500, _positive(request, "limit") or 100)
    async with request.app[SERVICES].sessions() as session:
        events = await list_events(
            session,
            configuration_id=request.query.get("configurationId") or None,
            limit=limit + 1,
            before_id=_positive(request, "beforeId"),
        )
    page = events[:limit]
    body = AuditList(events=page, next_before_id=page[-1].id if len(events) > limit else None)
    return web.json_response(body.model_dump(mode="json", by_alias=True))


def add_routes(app: web.Application) -> None:
    add_api_routes(app, list_audit)
