"""Shared edge helpers for HTTP adapters: turning httpx failures and throttling replies into
``crm.errors`` types. Vendor-specific body parsing stays in each adapter module."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from .errors import CrmUnavailableError

__all__ = ["parse_retry_after", "translate_transport_errors", "safe_text"]


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
        raise CrmUnavailableError(
            f"{vendor} could not be reached ({type(exc).__name__})"
        ) from exc


def safe_text(text: str, limit: int = 500) -> str:
    """A vendor message shortened for logs and admin-facing errors."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
