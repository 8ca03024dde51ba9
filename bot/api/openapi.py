"""A small registry of the HTTP API's endpoints and the OpenAPI 3.1 document built from it.

Each endpoint module declares its routes with :func:`api_route` and adds them with
:func:`add_api_routes`; ``GET /api/v1/openapi.json`` then describes exactly what is served.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .errors import ErrorBody
from .security import requires

__all__ = ["Endpoint", "OpenApiRegistry", "OPENAPI", "Param", "api_route", "add_api_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    """A documented path or query parameter (path parameters default to a string)."""

    name: str
    location: str  # "path" or "query"
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()  # extra documented error statuses (400, 404, 409, ...)
    public: bool = False  # no API key needed (health probes)
    params: tuple[Param, ...] = ()


@dataclass
class OpenApiRegistry:
    title: str = "Customer Card for Teams"
    version: str = "0.1.0"
    endpoints: list[Endpoint] = field(default_factory=list)

    def add(self, endpoint: Endpoint) -> None:
        self.endpoints.append(endpoint)

    def document(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every registered endpoint."""
        models = {m for e in self.endpoints for m in (e.request, e.response) if m is not None}
        keyed, schema = models_json_schema(
            [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
            ref_template="#/components/schemas/{model}",
        )
        refs = {model: keyed[(model, "validation")] for model in models}
        paths: dict[str, dict[str, Any]] = {}
        for endpoint in self.endpoints:
            paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
                endpoint, refs
            )
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version},
            "paths": paths,
            "components": {
                "schemas": schema.get("$defs", {}) | {"Error": _ERROR_SCHEMA},
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearerAuth": []}],
        }


# the one error body of every error answer (bot.api.errors.error_body builds it)
_ERROR_SCHEMA: dict[str, Any] = ErrorBody.model_json_schema()

_REASONS = {
    400: "Bad request (names the field)",
    401: "Missing or unknown API key",
    403: "Not allowed (e.g. a valid key of another scope: a platform key on the admin API)",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "Rejected",
    502: "CRM error",
    503: "Unavailable",
}


def _operation(endpoint: Endpoint, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": endpoint.summary, "tags": list(endpoint.tags)}
    if endpoint.public:
        operation["security"] = []
    given = {(p.location, p.name): p for p in endpoint.params}
    parameters = [
        _parameter(given.pop(("path", name), Param(name, "path", {"type": "string"})), True)
        for name in _path_params(endpoint.path)
    ] + [_parameter(p, False) for p in given.values()]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[endpoint.request]}},
        }
    ok: dict[str, Any] = {"description": "OK"}
    if endpoint.response is not None:
        ok["content"] = {"application/json": {"schema": refs[endpoint.response]}}
    responses: dict[str, Any] = {str(endpoint.status): ok}
    statuses = set(endpoint.errors) | ({400, 413} if endpoint.request else set())
    if parameters:  # a parameter can be refused (400: NUL characters, numbers out of range)
        statuses.add(400)
    if not endpoint.public:
        statuses |= {401, 403}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _REASONS.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation["responses"] = responses
    return operation


def _parameter(param: Param, required: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": param.name,
        "in": param.location,
        "required": required,
        "schema": param.schema,
    }
    if param.description:
        body["description"] = param.description
    return body


def _path_params(path: str) -> list[str]:
    return [
        part[1:-1].split(":")[0]
        for part in path.split("/")
        if part.startswith("{") and part.endswith("}")
    ]


OPENAPI = web.AppKey("openapi", OpenApiRegistry)


def api_route(
    method: str,
    path: str,
    *,
    summary: str,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    public: bool = False,
    params: tuple[Param, ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare a handler's route and its documentation in one place."""

    def decorate(handler: Handler) -> Handler:
        handler.__api_endpoint__ = Endpoint(  # type: ignore[attr-defined]
            method.upper(), path, summary, request, response, status, tags, errors, public, params
        )
        return handler

    return decorate


def add_api_routes(app: web.Application, *handlers: Handler) -> None:
    """Add handlers decorated with :func:`api_route` to the router and the OpenAPI registry."""
    registry = app.get(OPENAPI)
    if registry is None:
        registry = app[OPENAPI] = OpenApiRegistry()
    for handler in handlers:
        endpoint: Endpoint = handler.__api_endpoint__  # type: ignore[attr-defined]
        app.router.add_route(endpoint.method, endpoint.path, handler)
        registry.add(endpoint)


@api_route("GET", "/api/v1/openapi.json", summary="This OpenAPI document", tags=("meta",))
@requires("platform")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI].document())
