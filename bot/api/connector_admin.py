"""The connectors' admin API (admin keys): each platform's connection, its write-only
secrets and its explicit agent table. Rules live in :class:`bot.connectors.ConnectorStore`."""

from __future__ import annotations

from aiohttp import web

from ..connectors import Connector, ConnectorInput, ConnectorStore
from ..connectors.models import AgentTable, ConnectorList
from ..services import SERVICES
from .openapi import add_api_routes, api_route
from .request_body import read_json
from .security import requires

__all__ = ["add_routes"]

BASE = "/api/v1/connectors"


def _store(request: web.Request) -> ConnectorStore:
    return request.app[SERVICES].connectors


def _json(connector: Connector, status: int = 200) -> web.Response:
    return web.json_response(connector.model_dump(mode="json", by_alias=True), status=status)


@api_route(
    "GET",
    BASE,
    summary="List the platform connectors",
    response=ConnectorList,
    tags=("connectors",),
)
@requires("admin")
async def list_connectors(request: web.Request) -> web.Response:
    items = await _store(request).list()
    body = ConnectorList(connectors=items, total_records=len(items))
    return web.json_response(body.model_dump(mode="json", by_alias=True))


@api_route(
    "GET",
    BASE + "/{platform}",
    summary="A platform connector (twilio, amazon-connect, nice-cxone, genesys-cloud)",
    response=Connector,
    tags=("connectors",),
    errors=(404,),
)
@requires("admin")
async def get_connector(request: web.Request) -> web.Response:
    return _json(await _store(request).get(request.match_info["platform"]))


@api_route(
    "PUT",
    BASE + "/{platform}",
    summary="Set up or replace a platform connector (secrets not named are kept)",
    request=ConnectorInput,
    response=Connector,
    tags=("connectors",),
    errors=(404,),
)
@requires("admin")
async def put_connector(request: web.Request) -> web.Response:
    body = await read_json(request, ConnectorInput)
    connector, created = await _store(request).put(request.match_info["platform"], body)
    return _json(connector, 201 if created else 200)


@api_route(
    "PUT",
    BASE + "/{platform}/agents",
    summary="Replace a connector's agent table (platform agent id -> Teams email/UPN)",
    request=AgentTable,
    response=Connector,
    tags=("connectors",),
    errors=(404,),
)
@requires("admin")
async def put_agents(request: web.Request) -> web.Response:
    body = await read_json(request, AgentTable)
    return _json(await _store(request).set_agents(request.match_info["platform"], body.agents))


@api_route(
    "DELETE",
    BASE + "/{platform}",
    summary="Remove a platform connector",
    status=204,
    tags=("connectors",),
    errors=(404,),
)
@requires("admin")
async def delete_connector(request: web.Request) -> web.Response:
    await _store(request).delete(request.match_info["platform"])
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    add_api_routes(app, list_connectors, get_connector, put_connector, put_agents, delete_connector)
