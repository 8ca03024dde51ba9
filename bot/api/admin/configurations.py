"""The admin API's configuration endpoints: list, create, read, replace, change, delete,
(de)activate and test a CRM configuration; its start-up steps; the CRM's record types and
fields for pickers. The rules are the store's (:mod:`bot.configurations`)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from crm.config import Configuration, ConfigurationInput, ConfigurationPatch

from ...services import SERVICES
from ..openapi import Handler, api_route
from ..request_body import read_json
from ..security import requires
from .common import (
    BASE,
    TAGS,
    ConfigurationList,
    EntityFields,
    EntityList,
    StartupInput,
    StartupSteps,
    TestResult,
    answer,
    store,
)

__all__ = ["configuration_handlers"]


@api_route("GET", BASE, summary="List CRM configurations", response=ConfigurationList, tags=TAGS)
@requires("admin")
async def list_configurations(request: web.Request) -> web.Response:
    configs = await store(request).list_configurations()
    return answer(
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
    tags=TAGS,
    errors=(409,),
)
@requires("admin")
async def create_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationInput)
    return answer(await store(request).create(body), status=201)


@api_route(
    "GET",
    BASE + "/{configuration_id}",
    summary="Read a CRM configuration",
    response=Configuration,
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def get_configuration(request: web.Request) -> web.Response:
    return answer(await store(request).get(request.match_info["configuration_id"]))


@api_route(
    "PUT",
    BASE + "/{configuration_id}",
    summary="Replace a CRM configuration (secrets not named keep their value)",
    request=ConfigurationInput,
    response=Configuration,
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def replace_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationInput)
    return answer(await store(request).replace(request.match_info["configuration_id"], body))


@api_route(
    "PATCH",
    BASE + "/{configuration_id}",
    summary="Change some attributes of a CRM configuration",
    request=ConfigurationPatch,
    response=Configuration,
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def patch_configuration(request: web.Request) -> web.Response:
    body = await read_json(request, ConfigurationPatch)
    return answer(await store(request).patch(request.match_info["configuration_id"], body))


@api_route(
    "DELETE",
    BASE + "/{configuration_id}",
    summary="Delete a CRM configuration and its mappings and workflows",
    status=204,
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def delete_configuration(request: web.Request) -> web.Response:
    await store(request).delete(request.match_info["configuration_id"])
    return web.Response(status=204)


def _status_handler(status: Literal["active", "inactive"]) -> Handler:
    verb = "activate" if status == "active" else "deactivate"

    @api_route(
        "POST",
        BASE + "/{configuration_id}/" + verb,
        summary=f"{verb.capitalize()} a CRM configuration",
        response=Configuration,
        tags=TAGS,
        errors=(404,),
    )
    @requires("admin")
    async def handler(request: web.Request) -> web.Response:
        config_id = request.match_info["configuration_id"]
        return answer(await store(request).set_status(config_id, status))

    handler.__name__ = f"{verb}_configuration"
    return handler


@api_route(
    "POST",
    BASE + "/{configuration_id}/test",
    summary="Check a configuration's credentials and reach of the CRM",
    response=TestResult,
    tags=TAGS,
    errors=(404, 422, 502, 504),
)
@requires("admin")
async def test_configuration(request: web.Request) -> web.Response:
    return answer(await store(request).test(request.match_info["configuration_id"]))


@api_route(
    "GET",
    BASE + "/{configuration_id}/entities",
    summary="Record types of the CRM (for pickers)",
    response=EntityList,
    tags=TAGS,
    errors=(404, 502, 504),
)
@requires("admin")
async def list_entities(request: web.Request) -> web.Response:
    types = await store(request).entities(request.match_info["configuration_id"])
    return answer(
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
    tags=TAGS,
    errors=(404, 502, 504),
)
@requires("admin")
async def list_fields(request: web.Request) -> web.Response:
    known, fields = await store(request).fields(
        request.match_info["configuration_id"], request.match_info["record_type"]
    )
    return answer(
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
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def get_startup(request: web.Request) -> web.Response:
    config_id = request.match_info["configuration_id"]
    config = await store(request).get(config_id)
    steps = await request.app[SERVICES].directory.startup_steps(config_id)
    return answer(StartupSteps(steps=steps, default=config.startup is None))


@api_route(
    "PUT",
    BASE + "/{configuration_id}/startup",
    summary="Set the interaction start-up steps (null: the built-in default)",
    request=StartupInput,
    response=StartupSteps,
    tags=TAGS,
    errors=(404,),
)
@requires("admin")
async def put_startup(request: web.Request) -> web.StreamResponse:
    config_id = request.match_info["configuration_id"]
    body = await read_json(request, StartupInput)
    await store(request).set_startup(config_id, body.steps, name="steps")
    return await get_startup(request)


def configuration_handlers() -> list[Handler]:
    return [
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
    ]
