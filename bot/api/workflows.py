"""``POST /api/v1/workflows/execute``: what a contact-center script calls.

Runs a configuration's workflow through its adapter, shows the result on the interaction's
card (search results in Related; created or pinned records in Current) and answers the
normalised result (:mod:`crm.workflow_result`). Errors: unknown configuration, workflow or
interaction 404; invalid payload 400 naming the field; the CRM refused 422 with its reason;
CRM unreachable 502, timed out 504. No secret reaches a response: CRM texts are redacted.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.config import (
    WORKFLOW_ACTIONS,
    DynamicDataMapping,
    MemorializationWorkflow,
    workflow_action,
)
from crm.errors import CrmError, NotFoundError
from crm.mappings import MemorializationMapping
from crm.models import CrmRecord
from crm.protocol import CrmAdapter
from crm.secrets import redact
from crm.validation import CrmMetadata, load_metadata
from crm.workflow_result import (
    ExecuteResponse,
    MemorializedRecord,
    ResultSet,
    TimelineEntry,
    render_record,
    render_system,
)
from crm.workflows import ExecuteRequest, WorkflowOutcome, execute

from ..crm_directory import CrmDirectory
from ..interactions.data import interaction_data
from ..memorialization.direct import direct_memorializer
from ..observability.logs import log_context
from ..services import SERVICES, Services
from ..storage.tables import InteractionRow
from .errors import app_error_response, read_json
from .openapi import add_api_routes, api_route
from .security import requires

__all__ = ["add_routes", "interaction_data", "run_workflow"]

log = logging.getLogger(__name__)


async def _interaction(
    sessions: async_sessionmaker[AsyncSession], interaction_id: str
) -> tuple[InteractionRow, list[CrmRecord]]:
    from ..interactions import store

    async with sessions() as session:
        row = await store.interaction_or_404(session, interaction_id, field="interactionId")
        pinned = [
            store.record_from_row(r)
            for r in await store.records_of(session, row.id)
            if r.section == "current"
        ]
    return row, pinned


async def _memorialization_mapping(
    directory: CrmDirectory, config_id: str, workflow: Any, request: ExecuteRequest
) -> MemorializationMapping | None:
    if not isinstance(workflow, MemorializationWorkflow):
        return None
    explicit = request.payload.workflow_input.mapping_id
    mapping_id = explicit or workflow.mapping_id
    mapping = await directory.memorialization_mapping(config_id, mapping_id)
    if mapping is None and explicit:
        raise NotFoundError(
            f"Unknown or inactive memorialization mapping {explicit}",
            code="unknown_mapping",
            field="payload.workflowInput.mappingId",
        )
    return mapping


async def _render(
    outcome: WorkflowOutcome,
    request: ExecuteRequest,
    config_id: str,
    adapter: CrmAdapter,
    mapping: DynamicDataMapping | None,
) -> ExecuteResponse:
    types = {r.type for r in outcome.records + outcome.current}
    try:
        meta = await load_metadata(adapter, types)
    except CrmError:  # the workflow ran; labels are a nicety
        meta = CrmMetadata(record_types=[])
    system = adapter.system

    def render(record: CrmRecord) -> Any:
        known = meta.record_type(record.type)
        return render_record(
            record,
            system=system,
            type_label=known.label if known else record.type,
            field_infos=meta.fields.get(record.type.lower(), []),
            shown=mapping.fields_for(record.type) if mapping else None,
            screen_pop=request.options.screen_pop,
        )

    result = ResultSet(
        system=render_system(system),
        records=[render(r) for r in outcome.records],
        pin_records=[render(r) for r in outcome.current],
    )
    timeline = (
        [
            TimelineEntry(
                record_type=r.type,
                record_id=r.id,
                activity_id=ref.id,
                activity_type=ref.type,
                created=ref.created,
            )
            for r, ref in outcome.timeline
        ]
        if outcome.kind == "timeline"
        else None
    )
    memorialized = (
        [
            MemorializedRecord(record_type=r.type, record_id=r.id, **info)
            for r, info in outcome.memorialized
        ]
        if outcome.kind == "memorialization"
        else None
    )
    return ExecuteResponse(
        configuration_id=config_id,
        workflow_id=request.workflow_id,
        workflow_action=WORKFLOW_ACTIONS[outcome.kind],
        interaction_id=request.interaction_id,
        contact_id=request.contact_id,
        result=[result],
        timeline=timeline,
        memorialized=memorialized,
    )


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
            return await run_workflow(services, body, config_id)


async def run_workflow(services: Services, body: ExecuteRequest, config_id: str) -> web.Response:
    """Run ``body``'s workflow of ``config_id`` and answer its result (also the NICE CXone
    connector's way in)."""
    directory = services.directory
    workflow = await directory.workflow(config_id, body.workflow_id)
    row: InteractionRow | None = None
    pinned: list[CrmRecord] = []
    if body.interaction_id:
        row, pinned = await _interaction(services.sessions, body.interaction_id)
    data = interaction_data(row) if row is not None else None
    dynamic = await directory.dynamic_mapping(config_id, body.options.dynamic_data_mapping_id)
    memo_mapping = await _memorialization_mapping(directory, config_id, workflow, body)
    adapter = await directory.adapter(config_id)
    try:
        outcome = await execute(
            workflow,
            body.payload.workflow_input,
            adapter=adapter,
            interaction=data,
            options=body.options,
            pinned=pinned,
            memorialization_mapping=memo_mapping,
            memorialize=direct_memorializer(
                adapter, data, config_id, ended_by=row.ended_by if row else None
            ),
        )
    except CrmError as exc:
        log.info("Workflow %s of %s: CRM error %s", body.workflow_id, config_id, exc.code)
        return _crm_error_response(exc, await directory.secret_values(config_id))
    if row is not None and outcome.kind in ("search", "create", "update"):
        if outcome.current or outcome.related:
            await services.actions.show_records(
                row.id, current=outcome.current, related=outcome.related
            )
    response = await _render(outcome, body, config_id, adapter, dynamic)
    log.info(
        "Workflow %s (%s) of %s ran: %d record(s)",
        body.workflow_id,
        workflow_action(workflow),
        config_id,
        len(outcome.records),
    )
    return web.json_response(response.model_dump(mode="json", by_alias=True, exclude_none=True))


def add_routes(app: web.Application) -> None:
    """Add ``POST /api/v1/workflows/execute`` to ``app`` and its OpenAPI registry."""
    add_api_routes(app, execute_workflow)
