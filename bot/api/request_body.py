"""Reading a request's body: the raw bytes under the size limit (for signatures over them),
or JSON through the one hostile-input parser (:func:`~bot.api.inputs.parse_json`) into a
request model, with a 400 naming the offending field."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from crm.errors import InputError, error_field

from ..services import SERVICES
from .errors import PayloadTooLargeError
from .inputs import parse_json

__all__ = ["field_of", "read_body", "read_json"]

ModelT = TypeVar("ModelT", bound=BaseModel)


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


async def read_body(request: web.Request) -> bytes:
    """The raw body (for signatures over it): 413 over ``max_body_bytes``."""
    return await _read_limited(request, request.app[SERVICES].settings.max_body_bytes)


def field_of(error: ValidationError, data: Any = None) -> tuple[str, str]:
    """The first offending field (``recordTypes[0].fields[1]``) in ``data`` and its
    message."""
    first = error.errors(include_url=False)[0]
    return error_field(first, data), first["msg"].removeprefix("Value error, ")


async def read_json(request: web.Request, model: type[ModelT]) -> ModelT:
    """Parse the body as ``model``: 413 over ``max_body_bytes``, 400 on bad or hostile JSON
    (:func:`~bot.api.inputs.parse_json`), 400 naming the offending field when the JSON does
    not fit the model."""
    limit = request.app[SERVICES].settings.max_body_bytes
    data = parse_json(await _read_limited(request, limit))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        field, message = field_of(exc, data)
        raise InputError(
            f"{field}: {message}" if field else message, code="invalid_field", field=field or None
        ) from None
