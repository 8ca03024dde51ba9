"""The Bot Framework's token signing keys (OpenID/JWKS), fetched with a bound and cached
both ways, for the SDK's token validator.

The SDK (pinned exactly, see pyproject.toml) fetches keys through PyJWT's ``PyJWKClient``
with a 30 s timeout, and when Microsoft's key endpoint cannot be reached every request
fetches again: a hanging resolver holds each request for 30 s and a thread each.
:func:`install` gives the validator :class:`BotFrameworkKeys` instead (the validator's one
private hook, ``JwtTokenValidator._jwk_client_manager``; re-check on every SDK upgrade,
tests/bot/test_bot_keys.py does):

* keys are kept per endpoint for an hour; an unknown key id fetches again at most once a
  minute (a token with a made-up ``kid`` cannot make every request fetch);
* one fetch per endpoint at a time, bounded by :data:`FETCH_TIMEOUT` seconds: requests
  that arrive meanwhile wait for it, never start their own;
* a failed fetch is remembered for :data:`FAILURE_BACKOFF` seconds: requests in that time
  fail at once, without touching the network (keys fetched before stay in use);
* every failure is a PyJWT error, which the SDK answers with 401: authentication fails
  closed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from jwt import PyJWK, PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import (
    JwtTokenValidator,
)

__all__ = ["FAILURE_BACKOFF", "FETCH_TIMEOUT", "BotFrameworkKeys", "install"]

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds for one key fetch, name resolution included
FAILURE_BACKOFF = 30.0  # seconds a failed fetch is remembered
KEY_SET_LIFESPAN = 3600.0  # seconds the fetched keys are used before a fetch
UNKNOWN_KEY_COOLDOWN = 60.0  # an unknown key id fetches again at most this often


@dataclass
class _Endpoint:
    client: PyJWKClient
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float = -math.inf
    failed_until: float = -math.inf
    running: asyncio.Future[list[PyJWK]] | None = None


class BotFrameworkKeys:
    """The SDK's key manager protocol: ``await get_signing_key(jwks_uri, header)``."""

    def __init__(self, *, timeout: float = FETCH_TIMEOUT, backoff: float = FAILURE_BACKOFF) -> None:
        self.timeout = timeout
        self.backoff = backoff
        self._endpoints: dict[str, _Endpoint] = {}

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> PyJWK:
        kid = header["kid"]  # bot.api.messages refuses a token without one first
        endpoint = self._endpoints.get(jwks_uri)
        if endpoint is None:
            client = PyJWKClient(jwks_uri, cache_jwk_set=False, timeout=self.timeout)
            endpoint = self._endpoints[jwks_uri] = _Endpoint(client)
        age = time.monotonic() - endpoint.fetched_at
        if age > KEY_SET_LIFESPAN or (kid not in endpoint.keys and age > UNKNOWN_KEY_COOLDOWN):
            try:
                await self._refresh(endpoint)
            except PyJWKClientError:
                if kid not in endpoint.keys:
                    raise
                # keys fetched before stay good while the endpoint is away
        key = endpoint.keys.get(kid)
        if key is None:
            raise PyJWKClientError("No Bot Framework signing key with this key id")
        return key

    async def _refresh(self, endpoint: _Endpoint) -> None:
        if endpoint.failed_until > time.monotonic():
            raise PyJWKClientConnectionError("Bot Framework keys unavailable (recent failure)")
        if endpoint.running is None or endpoint.running.done():
            # one fetch per endpoint; a thread: PyJWKClient is synchronous
            endpoint.running = asyncio.ensure_future(
                asyncio.to_thread(endpoint.client.get_signing_keys)
            )
        try:
            # shielded: a request that gives up does not cancel the fetch others wait for
            keys = await asyncio.wait_for(asyncio.shield(endpoint.running), self.timeout)
        except (TimeoutError, PyJWKClientError) as exc:
            self._failed(endpoint, "timed out" if isinstance(exc, TimeoutError) else str(exc))
            raise PyJWKClientConnectionError("Bot Framework keys unavailable") from None
        endpoint.keys = {key.key_id: key for key in keys if key.key_id}
        endpoint.fetched_at = time.monotonic()

    def _failed(self, endpoint: _Endpoint, why: str) -> None:
        if endpoint.failed_until <= time.monotonic():
            log.warning(
                "Bot Framework signing keys from %s: %s; tokens are refused for %.0f s",
                endpoint.client.uri,
                why,
                self.backoff,
            )
        endpoint.failed_until = time.monotonic() + self.backoff


def install(keys: BotFrameworkKeys | None = None) -> BotFrameworkKeys:
    """Give the SDK's validator ``keys`` (default: a new :class:`BotFrameworkKeys`)."""
    keys = keys or BotFrameworkKeys()
    JwtTokenValidator._jwk_client_manager = keys  # type: ignore[assignment]
    return keys
