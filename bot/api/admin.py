"""The admin API under ``/api/v1`` (admin keys only): configurations, memorialization
mappings, dynamic data mappings, workflows, start-up steps, and CRM metadata for pickers.

Lists have the commercial anchor's shapes (``{"configurations": [...], "totalRecords"}``,
``{"dataMappings": [...]}``, ``{"workflows": [{"workflowId", "workflowName",
"workflowAction", ...}]}``, ``{"entities": [{"name", "label"}]}``). Secrets are write-only:
responses show ``{"set": true, "kind": "literal"|"env"|"file", "reference"?}``.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel

from crm.config import (
    Configuration,
    ConfigurationInput,
    ConfigurationPatch,
    DynamicDataMapping,
    MemorializationMappingInput,
    workflow_action,
)
from crm.startup import StartupStep

from ..configurations import ChildName, ConfigurationStore
from ..services import SERVICES
from .errors import read_json
from .openapi import Handler, add_api_routes, api_route
from .security import requires

__all__ = ["add_routes", "configuration_store"]

BASE = "/api/v1/configurations"


def configuration_store(app: web.Application) -> ConfigurationStore:
    """The app's configuration store (the started services')."""
    return app[SERVICES].configurations


def _store(request: web.Request) -> ConfigurationStore:
    return configuration_store(request.app)


class _Json(RootModel[Any]):
    """Any JSON body; the store parses it so messages name fields the admin's way."""


def _json(model: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    body = model.model_dump(mode="json", by_alias=True) if isinstance(model, BaseModel) else model
    return web.json_response(body, status=status)


# --- documentation models (responses) -------------------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ConfigurationList(_Doc):
    configurations: list[Configuration]
    total_records: int = Field(alias="totalRecords")


class MappingOut(_Doc):
    id: str
    name: str
    description: str = ""
    status: str
    entities: str  # the record types, comma-separated (as the anchor lists them)


class MappingList(_Doc):
    data_mappings: list[MappingOut] = Field(alias="dataMappings")
    total_records: int = Field(alias="totalRecords")


class WorkflowOut(_Doc):
    workflow_id: str = Field(alias="workflowId")
    workflow_name: str = Field(alias="workflowName")
    workflow_action: str = Field(alias="workflowAction")
    kind: str
    status: str


class WorkflowList(_Doc):
    id: str  # the configuration
    type_id: str = Field(alias="typeId")
    workflows: list[WorkflowOut]
    total_records: int = Field(alias="totalRecords")


class WorkflowBody(_Doc):
    """A workflow: ``kind`` (search, create, update, timeline, memorialization) and its
    settings; see docs/configuration.md."""

    kind: Literal["search", "create", "update", "timeline", "memorialization"]
    name: str


class EntityOut(_Doc):
    name: str
    label: str


class EntityList(_Doc):
    entities: list[EntityOut]


class FieldOut(_Doc):
    name: str
    label: str
    type: str
    is_updatable: bool = Field(alias="isUpdatable")


class EntityFields(_Doc):
    name: str
    label: str
    fields: list[FieldOut]


class TestResult(_Doc):
    configuration_id: str = Field(alias="configurationId")
    ok: bool
    type: str
    record_types: int = Field(alias="recordTypes")
    # what works, but not as configured (a caller table the CRM lacks, a missing property)
    warnings: list[str] = Field(default_factory=list)


class StartupSteps(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    steps: list[StartupStep]
    default: bool = False  # true: the configuration has none and the built-in default runs


# --- configurations -------------------------------------------------------------------

_TAGS = ("admin",)


@api_route("GET", BASE, summary="List CRM configurations", response=ConfigurationList, tags=_TAGS)
@requires("admin")
async def list_configurations(request: web.Request) -> web.Response:
    configs = await _store(request).list_configurations()
    return _json(
        {
            "configurations": [c.model_dump(mode="json", by_alias=True) for c in configs],
            "totalRecords": len(configs),
        }
    )


@api_route(
    "POST",
    BASE,
    summary="Create a CRM configuration (with its ready workflows)",
    request=ConfigurationInput,
    response=Configuration,
    status=201,
    tags=_TAGS,
    errors=(409,),
)
@requires("admin")
async def create_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationInput)
    return _json(await _store(request).create(body), status=201)


@api_route(
    "GET",
    BASE + "/{configuration_id}",
    summary="Read a CRM configuration",
    response=Configuration,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def get_configuration(request: web.Request) -> web.Response:
    return _json(await _store(request).get(request.match_info["configuration_id"]))


@api_route(
    "PUT",
    BASE + "/{configuration_id}",
    summary="Replace a CRM configuration (secrets not named keep their value)",
    request=ConfigurationInput,
    response=Configuration,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def replace_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationInput)
    return _json(await _store(request).replace(request.match_info["configuration_id"], body))


@api_route(
    "PATCH",
    BASE + "/{configuration_id}",
    summary="Change some attributes of a CRM configuration",
    request=ConfigurationPatch,
    response=Configuration,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def patch_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationPatch)
    return _json(await _store(request).patch(request.match_info["configuration_id"], body))


@api_route(
    "DELETE",
    BASE + "/{configuration_id}",
    summary="Delete a CRM configuration and its mappings and workflows",
    status=204,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def delete_configuration(request: web.Request) -> web.Response:
    await _store(request).delete(request.match_info["configuration_id"])
    return web.Response(status=204)


def _status_handler(status: Literal["active", "inactive"]) -> Handler:
    verb = "activate" if status == "active" else "deactivate"

    @api_route(
        "POST",
        BASE + "/{configuration_id}/" + verb,
        summary=f"{verb.capitalize()} a CRM configuration",
        response=Configuration,
        tags=_TAGS,
        errors=(404,),
    )
    @requires("admin")
    async def handler(request: web.Request) -> web.Response:
        config_id = request.match_info["configuration_id"]
        return _json(await _store(request).set_status(config_id, status))

    handler.__name__ = f"{verb}_configuration"
    return handler


@api_route(
    "POST",
    BASE + "/{configuration_id}/test",
    summary="Check a configuration's credentials and reach of the CRM",
    response=TestResult,
    tags=_TAGS,
    errors=(404, 422, 502, 504),
)
@requires("admin")
async def test_configuration(request: web.Request) -> web.Response:
    return _json(await _store(request).test(request.match_info["configuration_id"]))


@api_route(
    "GET",
    BASE + "/{configuration_id}/entities",
    summary="Record types of the CRM (for pickers)",
    response=EntityList,
    tags=_TAGS,
    errors=(404, 502, 504),
)
@requires("admin")
async def list_entities(request: web.Request) -> web.Response:
    types = await _store(request).entities(request.match_info["configuration_id"])
    return _json(
        {
            "entities": [
                {
                    "name": t.name,
                    "label": t.label,
                    "standard": t.standard,
                    "createable": t.createable,
                    "searchable": t.searchable,
                    "supportsTimeline": t.supports_timeline,
                }
                for t in types
            ]
        }
    )


@api_route(
    "GET",
    BASE + "/{configuration_id}/entities/{record_type}/fields",
    summary="Fields of a record type (for pickers)",
    response=EntityFields,
    tags=_TAGS,
    errors=(404, 502, 504),
)
@requires("admin")
async def list_fields(request: web.Request) -> web.Response:
    known, fields = await _store(request).fields(
        request.match_info["configuration_id"], request.match_info["record_type"]
    )
    return _json(
        {
            "name": known.name,
            "label": known.label,
            "fields": [
                {
                    "name": f.name,
                    "label": f.label,
                    "type": f.type.value,
                    "maxLength": f.max_length,
                    "required": f.required,
                    "isCreatable": f.createable,
                    "isUpdatable": f.updateable,
                    "custom": f.custom,
                    "isText": f.is_text,
                    "options": f.options,
                }
                for f in fields
            ],
        }
    )


@api_route(
    "GET",
    BASE + "/{configuration_id}/startup",
    summary="Interaction start-up steps",
    response=StartupSteps,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def get_startup(request: web.Request) -> web.Response:
    config_id = request.match_info["configuration_id"]
    config = await _store(request).get(config_id)
    steps = await request.app[SERVICES].directory.startup_steps(config_id)
    return _json(StartupSteps(steps=steps, default=config.startup is None))


class StartupInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: list[StartupStep] | None  # null: back to the built-in default


@api_route(
    "PUT",
    BASE + "/{configuration_id}/startup",
    summary="Set the interaction start-up steps (null: the built-in default)",
    request=StartupInput,
    response=StartupSteps,
    tags=_TAGS,
    errors=(404,),
)
@requires("admin")
async def put_startup(request: web.Request) -> web.StreamResponse:
    config_id = request.match_info["configuration_id"]
    body = await read_json(request, StartupInput)
    await _store(request).patch(config_id, ConfigurationPatch(startup=body.steps))
    return await get_startup(request)


# --- mappings and workflows -----------------------------------------------------------

_CHILD_PATHS: dict[ChildName, tuple[str, str, type[BaseModel], type[BaseModel]]] = {
    # kind: (path segment, label, request model, list model)
    "memorialization": (
        "data-mappings",
        "memorialization mapping",
        MemorializationMappingInput,
        MappingList,
    ),
    "dynamic": ("dynamic-data-mappings", "dynamic data mapping", DynamicDataMapping, MappingList),
    "workflow": ("workflows", "workflow", WorkflowBody, WorkflowList),
}


def render_child(kind: ChildName, model: Any) -> dict[str, Any]:
    body: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    if kind == "workflow":
        return {
            "workflowId": model.id,
            "workflowName": model.name,
            "workflowAction": workflow_action(model),
            **body,
        }
    body["entities"] = ", ".join(item.record_type for item in model.record_types)
    return body


def _child_handlers(kind: ChildName) -> list[Handler]:
    segment, label, request_model, list_model = _CHILD_PATHS[kind]
    many = BASE + "/{configuration_id}/" + segment
    one = many + "/{item_id}"
    tags = (segment,)

    @api_route("GET", many, summary=f"List {label}s", response=list_model, tags=tags, errors=(404,))
    @requires("admin")
    async def list_items(request: web.Request) -> web.Response:
        config_id = request.match_info["configuration_id"]
        store = _store(request)
        items = [render_child(kind, m) for m in await store.children.list(kind, config_id)]
        if kind == "workflow":
            config = await store.get(config_id)
            return _json(
                {
                    "id": config_id,
                    "typeId": config.type,
                    "workflows": items,
                    "totalRecords": len(items),
                }
            )
        return _json({"dataMappings": items, "totalRecords": len(items)})

    @api_route(
        "POST",
        many,
        summary=f"Create a {label} (checked against the CRM's fields)",
        request=request_model,
        response=request_model,
        status=201,
        tags=tags,
        errors=(404, 409, 502, 504),
    )
    @requires("admin")
    async def create_item(request: web.Request) -> web.Response:
        store = _store(request)
        model = store.children.parse(kind, (await read_json(request, _Json)).root)
        created = await store.children.create(kind, request.match_info["configuration_id"], model)
        return _json(render_child(kind, created), status=201)

    @api_route(
        "GET", one, summary=f"Read a {label}", response=request_model, tags=tags, errors=(404,)
    )
    @requires("admin")
    async def get_item(request: web.Request) -> web.Response:
        model = await _store(request).children.get(
            kind, request.match_info["configuration_id"], request.match_info["item_id"]
        )
        return _json(render_child(kind, model))

    @api_route(
        "PUT",
        one,
        summary=f"Replace a {label}",
        request=request_model,
        response=request_model,
        tags=tags,
        errors=(404, 502, 504),
    )
    @requires("admin")
    async def replace_item(request: web.Request) -> web.Response:
        store = _store(request)
        model = store.children.parse(kind, (await read_json(request, _Json)).root)
        saved = await store.children.replace(
            kind, request.match_info["configuration_id"], request.match_info["item_id"], model
        )
        return _json(render_child(kind, saved))

    @api_route("DELETE", one, summary=f"Delete a {label}", status=204, tags=tags, errors=(404,))
    @requires("admin")
    async def delete_item(request: web.Request) -> web.Response:
        await _store(request).children.delete(
            kind, request.match_info["configuration_id"], request.match_info["item_id"]
        )
        return web.Response(status=204)

    def status_handler(status: Literal["active", "inactive"]) -> Handler:
        verb = "activate" if status == "active" else "deactivate"

        @api_route(
            "POST",
            one + "/" + verb,
            summary=f"{verb.capitalize()} a {label}",
            response=request_model,
            tags=tags,
            errors=(404,),
        )
        @requires("admin")
        async def handler(request: web.Request) -> web.Response:
            model = await _store(request).children.set_status(
                kind, request.match_info["configuration_id"], request.match_info["item_id"], status
            )
            return _json(render_child(kind, model))

        return handler

    return [
        list_items,
        create_item,
        get_item,
        replace_item,
        delete_item,
        status_handler("inactive"),
        status_handler("active"),
    ]


def add_routes(app: web.Application) -> None:
    """Add the admin endpoints to ``app`` and its OpenAPI registry."""
    add_api_routes(
        app,
        list_configurations,
        create_configuration,
        get_configuration,
        replace_configuration,
        patch_configuration,
        delete_configuration,
        _status_handler("inactive"),
        _status_handler("active"),
        test_configuration,
        list_entities,
        list_fields,
        get_startup,
        put_startup,
        *_child_handlers("memorialization"),
        *_child_handlers("dynamic"),
        *_child_handlers("workflow"),
    )
