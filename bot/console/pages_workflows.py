"""Console pages of a configuration's workflows (list, create, edit, Try it). Workflows are
edited as their JSON definition (docs/configuration.md), checked by the same store as the
admin API's; Try it runs the workflow through :func:`bot.workflow_runs.run_workflow`, as the
execute endpoint does."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from crm.config import workflow_action
from crm.errors import AppError, CrmError
from crm.workflows import ExecuteRequest

from ..configurations import ConfigurationStore
from ..services import SERVICES
from ..workflow_runs import run_workflow
from .auth import PREFIX, ConsoleSession, console_page
from .pages_configurations import app_error
from .render import page

__all__ = ["parse_json", "routes", "sample_payload"]

_NEW = {"name": "", "kind": "search", "by": "phone"}


def _store(request: web.Request) -> ConfigurationStore:
    return request.app[SERVICES].configurations


def sample_payload(workflow: Any) -> dict[str, Any]:
    """A payload to start Try it with: the demo CRM's sample caller for a phone search."""
    samples: dict[str, dict[str, Any]] = {
        "search": {"phoneNumber": "+49 30 1234567"},
        "create": {"recordType": "contact", "fields": {"last_name": "Muster"}},
        "update": {"recordType": "contact", "id": "", "fields": {}},
    }
    inputs = samples.get(workflow.kind, {})
    if workflow.kind == "search" and getattr(workflow, "by", "") == "email":
        inputs = {"email": "anna.schmidt@schmidt-logistik.example"}
    return {"workflowInput": inputs}


def _definition(model: Any) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True), indent=2)


@console_page
async def list_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    store = _store(request)
    config = await store.get(request.match_info["id"])
    workflows = await store.children.list("workflow", config.id)
    rows = [(w, workflow_action(w)) for w in workflows]
    return page(
        request,
        "workflows.html",
        {"session": session, "config": config, "rows": rows, "new": json.dumps(_NEW, indent=2)},
    )


async def _edit(
    request: web.Request,
    session: ConsoleSession,
    workflow_id: str,
    *,
    definition: str | None = None,
    payload: str | None = None,
    errors: dict[str, str] | None = None,
    result: Any = None,
    status: int = 200,
) -> web.Response:
    store = _store(request)
    config = await store.get(request.match_info["id"])
    workflow = await store.children.get("workflow", config.id, workflow_id)
    return page(
        request,
        "workflow.html",
        {
            "session": session,
            "config": config,
            "workflow": workflow,
            "action": workflow_action(workflow),
            "definition": definition if definition is not None else _definition(workflow),
            "payload": payload
            if payload is not None
            else json.dumps(sample_payload(workflow), indent=2),
            "errors": errors or {},
            "result": result,
        },
        status=status,
    )


@console_page
async def edit_page(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    return await _edit(request, session, request.match_info["wid"])


def parse_json(text: str, field: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AppError(f"{field}: not JSON ({exc})", code="invalid_json", field=field) from None


async def _save_definition(
    request: web.Request, config_id: str, workflow_id: str | None, text: str
) -> Any:
    store = _store(request).children
    model = store.parse("workflow", parse_json(text, "definition"))
    if workflow_id is None:
        return await store.create("workflow", config_id, model)
    return await store.replace("workflow", config_id, workflow_id, model)


@console_page
async def create(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id = request.match_info["id"]
    text = str((await request.post()).get("definition", ""))
    try:
        created = await _save_definition(request, config_id, None, text)
    except AppError as exc:
        store = _store(request)
        config = await store.get(config_id)
        rows = [(w, workflow_action(w)) for w in await store.children.list("workflow", config_id)]
        values = {"session": session, "config": config, "rows": rows, "new": text}
        return page(request, "workflows.html", {**values, "errors": app_error(exc)}, status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/configurations/{config_id}/workflows/{created.id}?done=saved")


@console_page
async def save(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id, workflow_id = request.match_info["id"], request.match_info["wid"]
    text = str((await request.post()).get("definition", ""))
    try:
        await _save_definition(request, config_id, workflow_id, text)
    except AppError as exc:
        return await _edit(
            request, session, workflow_id, definition=text, errors=app_error(exc), status=400
        )
    raise web.HTTPSeeOther(
        f"{PREFIX}/configurations/{config_id}/workflows/{workflow_id}?done=saved"
    )


@console_page
async def try_it(request: web.Request, session: ConsoleSession) -> web.StreamResponse:
    config_id, workflow_id = request.match_info["id"], request.match_info["wid"]
    text = str((await request.post()).get("payload", ""))
    services = request.app[SERVICES]
    try:
        body = ExecuteRequest.model_validate(
            {
                "configurationId": config_id,
                "workflowId": workflow_id,
                "payload": parse_json(text, "payload"),
            }
        )
        response = await run_workflow(services, body, config_id)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        errors = {"payload": f"{where}: {first['msg']}"}
    except CrmError as exc:
        errors = {"payload": exc.vendor_message or exc.detail or exc.code, "_crm": "1"}
    except AppError as exc:
        errors = {"payload": exc.detail or exc.code}
    else:
        result = response.model_dump(mode="json", by_alias=True, exclude_none=True)
        return await _edit(request, session, workflow_id, payload=text, result=result)
    return await _edit(request, session, workflow_id, payload=text, errors=errors, status=400)


def routes() -> list[web.RouteDef]:
    base = PREFIX + "/configurations/{id}"
    return [
        web.get(base + "/workflows", list_page),
        web.post(base + "/workflows", create),
        web.get(base + "/workflows/{wid}", edit_page),
        web.post(base + "/workflows/{wid}", save),
        web.post(base + "/workflows/{wid}/try", try_it),
    ]
