"""The HTTP API: events, health, OpenAPI, API-key security and JSON errors."""

from .errors import error_middleware
from .openapi import OPENAPI, OpenApiRegistry, add_api_routes, api_route
from .request_body import read_json
from .security import requires

__all__ = [
    "OPENAPI",
    "OpenApiRegistry",
    "add_api_routes",
    "api_route",
    "error_middleware",
    "read_json",
    "requires",
]
