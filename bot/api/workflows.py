"""``POST /api/v1/workflows/execute``: what a contact-center script calls.

Runs a configuration's workflow through its adapter (:mod:`bot.workflow_runs`), shows the
result on the interaction's card (search results in Related; created or pinned records in
Current) and answers the normalised result (:mod:`crm.workflow_result`). Errors: unknown
configuration, workflow or interaction 404; invalid payload 400 naming the field; the CRM
refused 422 with its reason; CRM unreachable 502, timed out 504. No secret reaches a
response: CRM texts are redacted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crm.errors import CrmError
from crm.secrets import redact
from crm.workflow_result import ExecuteResponse
from crm.workflows import ExecuteRequest

from ..interactions.data import interaction_data
from ..observability.logs import log_context
from ..services import SERVICES, Services
from ..workflow_runs import run_workflow
from .errors import app_error_response
from .openapi import add_api_routes, api_route
from .request_body import read_json
from .security import requires

__all__ = ["add_routes", "interaction_data", "workflow_response"]


def _crm_error_response(exc: CrmError, secrets: list[str]) -> web.Response:
    details: dict[str, Any] = {}
    if exc.vendor_message:
        details["reason"] = redact(exc.vendor_message, secrets)
    if exc.vendor_status is not None:
        details["crmStatus"] = exc.vendor_status
    message = redact(exc.detail or exc.code, secrets)
    return app_error_response(exc, message=message, details=details)


@api_route(
    "POST",
    "/api/v1/workflows/execute",
    summary="Execute a workflow of a CRM "
    "configuration (search, create, update, timeline, memorialization)",
    request=ExecuteRequest,
    response=ExecuteResponse,
    tags=("workflows",),
    errors=(404, 422, 502, 503, 504),
)
@requires("platform")
async def execute_workflow(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = await read_json(request, ExecuteRequest)
    with log_context(interaction_id=body.interaction_id):
        config_id = await services.directory.resolve_id(body.configuration_id)
        with log_context(configuration_id=config_id):
            return await workflow_response(services, body, config_id)


async def workflow_response(
    services: Services, body: ExecuteRequest, config_id: str
) -> web.Response:
    """Run ``body``'s workflow of ``config_id`` and answer its normalised result, or the CRM's
    error (also the NICE CXone connector's way in)."""
    try:
        response = await run_workflow(services, body, config_id)
    except CrmError as exc:  # texts already scrubbed of the configuration's secrets
        return _crm_error_response(exc, [])
    return web.json_response(response.model_dump(mode="json", by_alias=True, exclude_none=True))


def add_routes(app: web.Application) -> None:
    """Add ``POST /api/v1/workflows/execute`` to ``app`` and its OpenAPI registry."""
    add_api_routes(app, execute_workflow)
