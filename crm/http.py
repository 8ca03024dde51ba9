"""Shared edge helpers for HTTP adapters: turning httpx failures and vendor replies into
``crm.errors`` types.

:func:`error_for_status` is the one table from a vendor's HTTP status to the project's error
class; each adapter reads its vendor's error body (the words, a code, a field, how long to
wait) and describes its special cases as data in a :class:`StatusTexts`: its own wording,
the error codes that mean throttling, the statuses that mean throttling when the reply says
how long to wait. Vendor-specific body parsing stays in each adapter package."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from .errors import (
    CrmAuthError,
    CrmError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)

__all__ = [
    "StatusTexts",
    "error_for_status",
    "read_token_reply",
    "json_or_raise",
    "json_body",
    "redact",
    "as_form_text",
    "parse_iso_datetime",
    "parse_retry_after",
    "retry_once_on_401",
    "safe_text",
    "translate_transport_errors",
]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@asynccontextmanager
async def translate_transport_errors(vendor: str) -> AsyncIterator[None]:
    """Map httpx's transport errors to ``CrmUnavailableError`` (timeouts flagged)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise CrmUnavailableError(f"{vendor} did not answer in time", timed_out=True) from exc
    except httpx.TransportError as exc:
        raise CrmUnavailableError(f"{vendor} could not be reached ({type(exc).__name__})") from exc


def safe_text(text: str, limit: int = 500) -> str:
    """A vendor message shortened for logs and admin-facing errors."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def retry_once_on_401(
    send: Callable[[], Awaitable[tuple[httpx.Response, str | None]]],
    invalidate: Callable[[str], Awaitable[None]] | None,
) -> httpx.Response:
    """Send once; on a 401 answered to a renewable token, invalidate it and send once more.

    ``send`` returns the reply and the bearer token it used (``None`` for credentials that
    cannot be renewed, such as basic auth). The second reply is returned as it is, so a
    repeated 401 reaches the caller's error translation."""
    response, token = await send()
    if response.status_code == 401 and token is not None and invalidate is not None:
        await invalidate(token)  # expired: mint once, retry
        response, _ = await send()
    return response


def parse_iso_datetime(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from a vendor reply; ``None`` when absent or malformed."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def as_form_text(value: Any) -> str:
    """A field value as the text APIs with string-typed fields expect (``true``/``false``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- vendor status -> project error ----------------------------------------------------


@dataclass(frozen=True)
class StatusTexts:
    """One vendor's part of the status table: its wording and its special cases.

    Texts are ``str.format`` templates with ``{vendor}``, ``{status}``, ``{reason}`` (the
    vendor's error code, else the status), ``{answered}`` (``"<vendor> answered <status>
    <code>"``) and ``{message}`` (``": <vendor words>"`` or empty)."""

    vendor: str
    throttled: str = "{vendor} is throttling requests"
    auth: str = "{vendor} refused the credentials"
    denied: str = "{vendor} denied this action to the integration user"
    not_found: str = "{vendor} has no such record"
    unavailable: str = "{vendor} answered {status}"
    rejected: str = "{vendor} rejected the request ({status})"
    # error codes that mean throttling whatever the status (Salesforce answers 403)
    throttle_codes: frozenset[str] = field(default_factory=frozenset)
    # statuses that mean throttling when the reply says how long to wait (Oracle)
    throttled_when_waiting: frozenset[int] = field(default_factory=frozenset)


# status -> (error class, StatusTexts attribute); 5xx and other 4xx below
_STATUS_TABLE: dict[int, tuple[type[CrmError], str]] = {
    429: (CrmRateLimitedError, "throttled"),
    401: (CrmAuthError, "auth"),
    403: (CrmRejectedError, "denied"),
    404: (CrmNotFoundError, "not_found"),
}


def error_for_status(
    texts: StatusTexts,
    status: int,
    *,
    message: str | None,
    code: str = "",
    field: str | None = None,
    retry_after: float | None = None,
) -> CrmError | None:
    """The project error for a vendor reply's status, ``None`` below 400. ``message`` is the
    vendor's words (kept apart in ``vendor_message``), ``retry_after`` the wait the reply
    asked for, ``field`` the field it blamed."""
    if status < 400:
        return None
    throttled = code in texts.throttle_codes or (
        status in texts.throttled_when_waiting and retry_after is not None
    )
    if throttled:
        kind, key = _STATUS_TABLE[429]
    elif status in _STATUS_TABLE:
        kind, key = _STATUS_TABLE[status]
    elif status >= 500:
        kind, key = CrmUnavailableError, "unavailable"
    else:
        kind, key = CrmRejectedError, "rejected"
    detail = getattr(texts, key).format(
        vendor=texts.vendor,
        status=status,
        reason=code or status,
        answered=f"{texts.vendor} answered {status}" + (f" {code}" if code else ""),
        message=f": {message}" if message else "",
    )
    kwargs: dict[str, Any] = {"vendor_status": status, "vendor_message": message, "field": field}
    if kind is CrmRateLimitedError:
        return CrmRateLimitedError(detail, retry_after=retry_after, **kwargs)
    return kind(detail, **kwargs)


def json_body(response: httpx.Response) -> Any:
    """A reply's JSON body; ``None`` when it has none or it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every (non-empty) secret blanked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def read_token_reply(
    response: httpx.Response, *, refused: str, message: str, error: CrmError | None
) -> tuple[str, float | None, None]:
    """An OAuth token endpoint's reply as ``TokenManager`` wants it: ``(token, expires_in,
    None)``. A 400/401/403 is the identity provider refusing the client (``CrmAuthError``
    with ``refused`` and the vendor's ``message``); any other failure is ``error``."""
    if response.status_code in (400, 401, 403):
        raise CrmAuthError(refused, vendor_status=response.status_code, vendor_message=message)
    if error is not None:
        raise error
    data = response.json()
    expires = data.get("expires_in")
    return str(data["access_token"]), float(expires) if expires else None, None


def json_or_raise(response: httpx.Response, error: CrmError | None) -> Any:
    """The reply's JSON (``{}`` for an empty body), or ``error`` raised when it failed."""
    if error is not None:
        raise error
    return response.json() if response.content else {}
