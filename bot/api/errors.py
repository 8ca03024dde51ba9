"""JSON errors for the HTTP API.

Every HTTP error answer of the service has one body, :class:`ErrorBody` (``Error`` in the
OpenAPI document), built by :func:`error_body` and nowhere else::

    {"error": "invalid_field", "message": "...", "status": 400,
     "field": "settings.instanceUrl", "details": {...}}

``field`` (the dotted path of the offending input) and ``details`` (e.g. the CRM's own reason
and status) are present only when known. 401 means no or a wrong credential and carries
``WWW-Authenticate``; 403 means the caller is known but may not do this.

:func:`error_middleware` is the one place that turns exceptions into API responses:
``AppError`` answers with its own status and safe message; anything else is logged and
answered with a generic 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict, Field

from crm.errors import AppError, InputError

__all__ = [
    "ErrorBody",
    "PayloadTooLargeError",
    "app_error_response",
    "error_body",
    "error_middleware",
    "error_response",
    "forbidden",
    "server_log",
    "unauthorized",
]

log = logging.getLogger(__name__)


class PayloadTooLargeError(InputError):
    code = "payload_too_large"
    http_status = 413


class ErrorBody(BaseModel):
    """The JSON body of every HTTP error answer."""

    model_config = ConfigDict(extra="forbid", title="Error")

    error: str = Field(description="Machine-readable code, e.g. invalid_field, unauthorized.")
    message: str = Field(description="What went wrong, safe to show (never a secret).")
    status: int = Field(description="The HTTP status, repeated.")
    field: str | None = Field(None, description="Dotted path of the offending input field.")
    details: dict[str, Any] | None = Field(
        None, description="More about the error, e.g. the CRM's reason and status."
    )


def error_body(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one error body (an :class:`ErrorBody` as JSON, unset optional parts left out)."""
    body = ErrorBody(error=code, message=message, status=status, field=field or None)
    if details:
        body.details = details
    return body.model_dump(mode="json", exclude_none=True)


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A JSON error answer with :func:`error_body`."""
    body = error_body(status, code, message, field=field, details=details)
    return web.json_response(body, status=status, headers=headers)


def app_error_response(
    exc: AppError, *, message: str | None = None, details: dict[str, Any] | None = None
) -> web.Response:
    """The answer to ``exc``: its status, code, field and (unless ``message`` replaces it,
    e.g. redacted) its detail."""
    text = message if message is not None else exc.detail or exc.code
    return error_response(exc.http_status, exc.code, text, field=exc.field, details=details)


def unauthorized(message: str) -> web.Response:
    """401: no credential, or one we do not accept."""
    return error_response(
        401,
        "unauthorized",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="customer-card"'},
    )


def forbidden(code: str, message: str) -> web.Response:
    """403: a valid caller that may not do this (e.g. a tenant not in the allow-list)."""
    return error_response(403, code, message)


# headers of aiohttp's HTTP exceptions that belong to the error answer (405's Allow, ...)
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as exc:
        if exc.http_status >= 500:
            log.warning("%s %s failed: %s (%s)", request.method, request.path, exc.code, exc.detail)
        if exc.http_status == 400 and not exc.field:
            exc.field = "body"  # every 400 names a field: without one, the body as a whole
        return app_error_response(exc)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/v1") or exc.status < 400:
            raise
        headers = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        code = exc.reason.lower().replace(" ", "_")
        return error_response(exc.status, code, exc.reason, headers=headers or None)
    except Exception:
        log.exception("Unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Internal server error.")


class _ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server log: a request that is not valid HTTP (a header line over the size
    limit, a bad request line) is the client's error. aiohttp logs it at ERROR with a
    traceback, which would let any anonymous client write ERROR lines at will; it becomes
    one INFO line naming the problem (not its bytes). Errors of our own stay ERROR."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kw: Any) -> None:
        if isinstance(exc_info, HttpProcessingError) and 400 <= exc_info.code < 500:
            self.info(
                "Refused a malformed HTTP request (%s %s)",
                exc_info.code,
                type(exc_info).__name__,
                **kw,
            )
            return
        self.error(msg, *args, exc_info=exc_info, **kw)


def server_log() -> logging.LoggerAdapter:  # type: ignore[type-arg]
    """The logger for aiohttp's ``RequestHandler`` (``web.Application(handler_args=...)``)."""
    return _ServerLog(logging.getLogger("aiohttp.server"), {})
