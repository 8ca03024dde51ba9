"""The project's one exception hierarchy.

    AppError                      every error we raise on purpose; safe to show
    ├── InputError                bad input from a caller or an agent (HTTP 400)
    ├── NotFoundError             unknown interaction, configuration, workflow (HTTP 404)
    ├── ConflictError             state does not allow the request (HTTP 409)
    ├── PermissionDeniedError     the caller may not act on this (HTTP 403)
    ├── ConfigError               a CRM configuration or mapping is invalid (HTTP 400)
    └── CrmError                  a CRM call failed (translated at each adapter's edge)
        ├── CrmAuthError          credentials refused or token could not be minted
        ├── CrmNotFoundError      the record does not exist in the CRM
        ├── CrmRejectedError      the CRM refused the request (validation, permissions)
        ├── CrmRateLimitedError   throttled; ``retry_after`` seconds when the CRM said so
        └── CrmUnavailableError   unreachable, 5xx, or timed out (``timed_out``)

Every error carries a ``code`` (a key into the agent-facing message catalogue in
``cards.i18n``), a ``detail`` for admins and logs (never a secret, never a stack), the
HTTP status an API answers with, and ``retryable`` for the durable writer: retry
decisions are made from the type, never by matching strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "error_field",
    "field_path",
    "AppError",
    "InputError",
    "NotFoundError",
    "ConflictError",
    "PermissionDeniedError",
    "ConfigError",
    "CrmError",
    "CrmAuthError",
    "CrmNotFoundError",
    "CrmRejectedError",
    "CrmRateLimitedError",
    "CrmUnavailableError",
]


class AppError(Exception):
    """Root of the hierarchy. ``code`` selects the agent-facing text; ``detail`` is for admins."""

    code = "error"
    http_status = 500
    retryable = False

    def __init_subclass__(
        cls,
        *,
        code: str | None = None,
        http_status: int | None = None,
        retryable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """A subclass states its code, HTTP status and retryability in its class line."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if http_status is not None:
            cls.http_status = http_status
        if retryable is not None:
            cls.retryable = retryable

    def __init__(
        self,
        detail: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        if code is not None:
            self.code = code
        self.field = field
        self.params = params or {}

    def to_json(self) -> dict[str, Any]:
        """The JSON error body our HTTP APIs answer with."""
        body: dict[str, Any] = {"error": self.code, "message": self.detail or self.code}
        if self.field:
            body["field"] = self.field
        return body


class InputError(AppError, code="invalid_input", http_status=400):
    """Bad input from a caller or an agent."""


class NotFoundError(AppError, code="not_found", http_status=404):
    """Unknown interaction, configuration or workflow."""


class ConflictError(AppError, code="conflict", http_status=409):
    """The state does not allow the request."""


class PermissionDeniedError(AppError, code="not_allowed", http_status=403):
    """The caller may not act on this."""


class ConfigError(AppError, code="invalid_configuration", http_status=400):
    """A CRM configuration or mapping is invalid."""


class CrmError(AppError, code="crm_error", http_status=502):
    """A CRM call failed. ``vendor_message`` keeps the CRM's own words for the admin."""

    def __init__(
        self,
        detail: str = "",
        *,
        vendor_status: int | None = None,
        vendor_message: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detail, **kwargs)
        self.vendor_status = vendor_status
        self.vendor_message = vendor_message


class CrmAuthError(CrmError, code="crm_auth", http_status=502):
    """The CRM refused the credentials, or no token could be minted."""


class CrmNotFoundError(CrmError, code="crm_not_found", http_status=404):
    """The record does not exist in the CRM."""


class CrmRejectedError(CrmError, code="crm_rejected", http_status=422):
    """The CRM refused the request (validation, permissions)."""


class CrmRateLimitedError(CrmError, code="crm_rate_limited", http_status=503, retryable=True):
    """The CRM throttles us; ``retry_after`` seconds when it said so."""

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after


class CrmUnavailableError(CrmError, code="crm_unavailable", http_status=502, retryable=True):
    """The CRM is unreachable, answered 5xx, or did not answer in time (``timed_out``)."""

    def __init__(self, detail: str = "", *, timed_out: bool = False, **kwargs: Any):
        super().__init__(detail, **kwargs)
        self.timed_out = timed_out
        if timed_out:
            self.http_status = 504


def error_field(error: Mapping[str, Any], data: Any = None) -> str:
    """The field of one pydantic error (``ValidationError.errors()``) in ``data``, in the
    one path syntax; a missing or unknown tag of a tagged union names the tag's member
    (``steps[0].step``, ``kind``), where pydantic gives no location at all."""
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc += (str((error.get("ctx") or {}).get("discriminator", "")).strip("'"),)
    return field_path(loc, data)


def field_path(loc: Iterable[str | int], data: Any = None) -> str:
    """The one path syntax of error fields: ``("recordTypes", 0, "fields", 1)`` ->
    ``recordTypes[0].fields[1]``.

    Given the input ``data`` the location was found in (a pydantic error's ``loc``), the
    parts the caller never wrote are left out: a tagged union's tag (``startup[0].search
    .limit`` is ``startup[0].limit``) and a union member's name after a value."""
    path = ""
    node, known = data, data is not None
    for part in loc:
        if known and isinstance(node, dict):
            if part in node:
                node = node[part]
            elif isinstance(part, str) and part in node.values():
                continue  # the discriminator's value: pydantic's tag, not a field
            else:
                known = False
        elif known and isinstance(node, list):
            if isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                known = False
        elif known:
            continue  # a union member's name (``str``, ``dict[str,str]``) below a value
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + (_shown(part) if part else '""')
    return path


def _shown(segment: str, limit: int = 64) -> str:
    # a path can name a caller's key: never echo NULs, surrogates or a megabyte of it back
    shown = "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in segment)
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"
