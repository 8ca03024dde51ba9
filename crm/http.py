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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
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
    "Quota",
    "QuotaHeaders",
    "StatusTexts",
    "observe_response",
    "observing_responses",
    "parse_quota",
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


# --- the vendor's quota, read from its rate-limit headers --------------------------------


@dataclass(frozen=True)
class QuotaHeaders:
    """One vendor's documented rate-limit headers (crm-apis.md), as data.

    ``remaining``/``limit`` name headers with counts; ``usage`` a header of the form
    ``api-usage=<used>/<limit>`` (Salesforce); ``window_seconds`` the documented window, or
    ``window_ms`` a header carrying it; ``reset`` a header with the window's reset (seconds
    from now, or Unix time in seconds or milliseconds: told apart by size); ``wait_ms`` a
    header asking for a pause in milliseconds (Oracle). ``paces``: False for a daily
    allowance, which is a cap to stop at, not a pace to spread calls over the day."""

    remaining: str = ""
    limit: str = ""
    usage: str = ""
    window_seconds: float | None = None
    window_ms: str = ""
    reset: str = ""
    wait_ms: str = ""
    paces: bool = True


@dataclass(frozen=True)
class Quota:
    """What one reply said about the caller's quota; ``None`` where it said nothing."""

    remaining: int | None = None
    limit: int | None = None
    window: float | None = None  # seconds the limit applies to
    reset_in: float | None = None  # seconds until the window starts afresh
    retry_after: float | None = None  # seconds before the next call (Retry-After, Oracle)
    paces: bool = True


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name) if name else None
    try:
        return float(raw.strip()) if raw else None
    except ValueError:
        return None


def _usage(value: str | None) -> tuple[int, int] | None:
    """``api-usage=18/15000`` (possibly among other ``name=n/m`` parts) -> (18, 15000)."""
    for part in (value or "").split(","):
        name, _, counts = part.strip().partition("=")
        used, _, limit = counts.partition("/")
        if name == "api-usage" and used.isdigit() and limit.isdigit():
            return int(used), int(limit)
    return None


def parse_quota(
    spec: QuotaHeaders, headers: Mapping[str, str], *, now: float | None = None
) -> Quota | None:
    """The quota a reply's headers report under ``spec``; ``None`` when they report none.
    Pure: ``headers`` is any case-insensitive mapping (``httpx.Headers``)."""
    remaining = _number(headers, spec.remaining)
    limit = _number(headers, spec.limit)
    usage = _usage(headers.get(spec.usage)) if spec.usage else None
    if usage is not None:
        remaining, limit = float(usage[1] - usage[0]), float(usage[1])
    window_ms = _number(headers, spec.window_ms)
    window = window_ms / 1000.0 if window_ms is not None else spec.window_seconds
    reset = _number(headers, spec.reset)
    if reset is not None and reset > 1e9:  # Unix time (milliseconds above 1e12)
        reset = (reset / 1000.0 if reset > 1e12 else reset) - (time.time() if now is None else now)
    wait_ms = _number(headers, spec.wait_ms)
    retry_after = parse_retry_after(headers.get("retry-after"), now=now)
    if retry_after is None and wait_ms is not None and wait_ms > 0:
        retry_after = wait_ms / 1000.0
    quota = Quota(
        remaining=None if remaining is None else max(0, int(remaining)),
        limit=None if limit is None else int(limit),
        window=window if window and window > 0 else None,
        reset_in=None if reset is None else max(0.0, reset),
        retry_after=retry_after,
        paces=spec.paces,
    )
    if quota.remaining is None and quota.retry_after is None:
        return None  # nothing to pace by (a window length alone says nothing)
    return quota


QuotaObserver = Callable[[Quota | None], None]
_OBSERVER: ContextVar[QuotaObserver | None] = ContextVar("crm_quota_observer", default=None)


@contextmanager
def observing_responses(observer: QuotaObserver) -> Iterator[None]:
    """Within this block (and tasks it starts), every vendor reply an adapter receives is
    reported to ``observer`` with the quota its headers carry (``None``: they carry none).
    The memorialization worker paces each configuration by it and counts calls per job."""
    token = _OBSERVER.set(observer)
    try:
        yield
    finally:
        _OBSERVER.reset(token)


def observe_response(spec: QuotaHeaders, response: httpx.Response) -> None:
    """Called by each adapter's transport for every reply it receives (errors included)."""
    observer = _OBSERVER.get()
    if observer is not None:
        observer(parse_quota(spec, response.headers))
