"""Bearer API keys for the ``/api/v1`` endpoints, compared in constant time.

Three scopes:
  ``platform``  the contact-center side (events, workflow execution): ``api_keys``;
                admin keys pass too, so an admin can drive everything.
  ``admin``     the configuration API: ``admin_api_keys`` only.
  ``metrics``   ``GET /metrics`` for a Prometheus scraper: ``metrics_api_keys``; admin
                keys pass too. A scraper's key opens nothing else.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

from aiohttp import web
from pydantic import SecretStr

from ..audit import acting_as, key_actor
from ..services import SERVICES
from ..settings import Settings
from .errors import forbidden, unauthorized

__all__ = ["Scope", "requires", "key_allows", "keys_for_scope"]

Scope = Literal["platform", "admin", "metrics"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def keys_for_scope(settings: Settings, scope: Scope) -> list[SecretStr]:
    if scope == "admin":
        return list(settings.admin_api_keys)
    if scope == "metrics":
        return list(settings.metrics_api_keys) + list(settings.admin_api_keys)
    return list(settings.api_keys) + list(settings.admin_api_keys)


_SCOPE_NAMES: dict[Scope, str] = {
    "platform": "platform (events, workflows)",
    "admin": "admin (configuration API)",
    "metrics": "metrics",
}


def all_keys(settings: Settings) -> list[SecretStr]:
    return [*settings.api_keys, *settings.admin_api_keys, *settings.metrics_api_keys]


def key_allows(presented: str, keys: Iterable[SecretStr]) -> bool:
    """True when ``presented`` equals one of ``keys``. Every key is compared (no early exit),
    so the time taken does not reveal which key, or how much of one, matched."""
    given = presented.encode()
    matched = False
    for key in keys:
        expected = key.get_secret_value().encode()
        matched |= bool(expected) and hmac.compare_digest(given, expected)
    return matched


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def requires(scope: Scope) -> Callable[[Handler], Handler]:
    """Decorator for aiohttp handlers: 401 JSON for a missing or unknown key, 403 JSON for a
    known key of another scope (e.g. a platform key on the admin API)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            token = _bearer(request)
            if token is None:
                return unauthorized("Missing bearer API key (Authorization: Bearer <key>).")
            settings = request.app[SERVICES].settings
            if not key_allows(token, keys_for_scope(settings, scope)):
                if key_allows(token, all_keys(settings)):
                    return forbidden(
                        "insufficient_scope",
                        f"This API key is valid but lacks {_SCOPE_NAMES[scope]} rights.",
                    )
                return unauthorized("Invalid API key.")
            with acting_as(key_actor(token)):  # the audit trail names the key's fingerprint
                return await handler(request)

        guarded.__api_scope__ = scope  # type: ignore[attr-defined]  # read by openapi
        return guarded

    return decorate
