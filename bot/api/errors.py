"""JSON errors for the HTTP API, and request-body parsing with a size limit.

The one place that turns exceptions into API responses: ``AppError`` answers with its own
status and safe message; anything else is logged and answered with a generic 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from crm.errors import AppError, InputError

from ..services import SERVICES

__all__ = ["error_middleware", "read_json", "json_error", "PayloadTooLargeError"]

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)


class PayloadTooLargeError(InputError):
    code = "payload_too_large"
    http_status = 413


def json_error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as exc:
        if exc.http_status >= 500:
            log.warning("%s %s failed: %s (%s)", request.method, request.path, exc.code, exc.detail)
        return web.json_response(exc.to_json(), status=exc.http_status)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/v1") or exc.status < 400:
            raise
        return json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return json_error(500, "internal_error", "Internal server error.")


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLargeError(f"Request body over {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:  # chunked bodies carry no Content-Length: count as we go
            raise PayloadTooLargeError(f"Request body over {limit} bytes.")
        chunks.append(chunk)


def field_of(error: ValidationError) -> tuple[str, str]:
    """The first offending field (pydantic ``loc`` joined with ".") and its message."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    return field, first["msg"]


async def read_json(request: web.Request, model: type[ModelT]) -> ModelT:
    """Parse the body as ``model``: 413 over ``max_body_bytes``, 400 on bad JSON, 400 naming
    the offending field when the JSON does not fit the model."""
    limit = request.app[SERVICES].settings.max_body_bytes
    raw = await _read_limited(request, limit)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"Body is not valid JSON: {exc}", code="invalid_json") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = field_of(exc)
        raise InputError(
            f"{field}: {message}" if field else message, code="invalid_field", field=field or None
        ) from None
