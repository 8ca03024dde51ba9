"""Shared edge helpers for HTTP adapters: turning httpx failures and throttling replies into
``crm.errors`` types. Vendor-specific body parsing stays in each adapter module."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from .errors import CrmUnavailableError

__all__ = [
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
    invalidate: Callable[[str], Awaitable[None]],
) -> httpx.Response:
    """Send once; on a 401 answered to a renewable token, invalidate it and send once more.

    ``send`` returns the reply and the bearer token it used (``None`` for credentials that
    cannot be renewed, such as basic auth). The second reply is returned as it is, so a
    repeated 401 reaches the caller's error translation."""
    response, token = await send()
    if response.status_code == 401 and token is not None:
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
