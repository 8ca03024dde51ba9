"""The admin API's per-configuration objects: memorialization mappings, dynamic data
mappings and workflows, one set of handlers made per kind (:data:`CHILD_PATHS`). The rules
are the store's (:class:`bot.configurations.ChildStore`)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from crm.config import DynamicDataMapping, MemorializationMappingInput, workflow_action

from ...configurations import ChildName
from ..openapi import Handler, api_route
from ..request_body import read_json
from ..security import requires
from .common import BASE, Json, MappingList, WorkflowBody, WorkflowList, answer, store

__all__ = ["child_handlers", "render_child"]


CHILD_PATHS: dict[ChildName, tuple[str, str, type[BaseModel], type[BaseModel]]] = {
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


def child_handlers(kind: ChildName) -> list[Handler]:
    segment, label, request_model, list_model = CHILD_PATHS[kind]
    many = BASE + "/{configuration_id}/" + segment
    one = many + "/{item_id}"
    tags = (segment,)

    @api_route("GET", many, summary=f"List {label}s", response=list_model, tags=tags, errors=(404,))
    @requires("admin")
    async def list_items(request: web.Request) -> web.Response:
        config_id = request.match_info["configuration_id"]
        configs = store(request)
        items = [render_child(kind, m) for m in await configs.children.list(kind, config_id)]
        if kind == "workflow":
            config = await configs.get(config_id)
            return answer(
                {
                    "id": config_id,
                    "typeId": config.type,
                    "workflows": items,
                    "totalRecords": len(items),
                }
            )
        return answer({"dataMappings": items, "totalRecords": len(items)})

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
        configs = store(request)
        model = configs.children.parse(kind, (await read_json(request, Json)).root)
        created = await configs.children.create(kind, request.match_info["configuration_id"], model)
        return answer(render_child(kind, created), status=201)

    @api_route(
        "GET", one, summary=f"Read a {label}", response=request_model, tags=tags, errors=(404,)
    )
    @requires("admin")
    async def get_item(request: web.Request) -> web.Response:
        model = await store(request).children.get(
            kind, request.match_info["configuration_id"], request.match_info["item_id"]
        )
        return answer(render_child(kind, model))

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
        configs = store(request)
        model = configs.children.parse(kind, (await read_json(request, Json)).root)
        saved = await configs.children.replace(
            kind, request.match_info["configuration_id"], request.match_info["item_id"], model
        )
        return answer(render_child(kind, saved))

    @api_route("DELETE", one, summary=f"Delete a {label}", status=204, tags=tags, errors=(404,))
    @requires("admin")
    async def delete_item(request: web.Request) -> web.Response:
        await store(request).children.delete(
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
            model = await store(request).children.set_status(
                kind, request.match_info["configuration_id"], request.match_info["item_id"], status
            )
            return answer(render_child(kind, model))

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
