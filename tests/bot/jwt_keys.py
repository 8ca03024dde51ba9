"""Offline Bot Framework tokens: a local RSA key, its JWKS on 127.0.0.1, a token factory,
and a connection manager that mints outbound tokens without Entra ID.

The SDK picks the JWKS URL from the token's issuer through ``BOTFRAMEWORK_JWKS_URIS`` (a
private table of microsoft-agents-hosting-core, pinned exactly in pyproject for this).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from microsoft_agents.hosting.core.authorization import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    Connections,
    _entra_issuers,
)

BOT_ISSUER = "https://api.botframework.com"
APP_ID = "11111111-2222-3333-4444-555555555555"


class KeyPair:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        key = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**key, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(
        self,
        *,
        audience: str = APP_ID,
        issuer: str = BOT_ISSUER,
        expires_in: int = 3600,
        kid: str | None = "default",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "iat": now - 10,
            "nbf": now - 10,
            "exp": now + expires_in,
            "serviceurl": claims.pop("serviceurl", None),
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        headers = {} if kid is None else {"kid": self.kid if kid == "default" else kid}
        return jwt.encode(payload, self.private, algorithm="RS256", headers=headers)


def jwks_app(*keys: KeyPair) -> web.Application:
    app = web.Application()

    async def keys_handler(request: web.Request) -> web.Response:
        return web.json_response({"keys": [k.jwk() for k in keys]})

    app.router.add_get("/keys", keys_handler)
    return app


async def serve_keys(aiohttp_server: Any, monkeypatch: Any) -> KeyPair:
    """A new key pair, its JWKS served on loopback, and the SDK's issuer -> JWKS table
    (third-party, pinned SDK version) pointed at it for this test."""
    pair = KeyPair()
    server = await aiohttp_server(jwks_app(pair))
    monkeypatch.setitem(
        _entra_issuers.BOTFRAMEWORK_JWKS_URIS, BOT_ISSUER, str(server.make_url("/keys"))
    )
    return pair


class _StaticToken(AccessTokenProviderBase):
    def __init__(self, config: AgentAuthConfiguration) -> None:
        self._config = config

    @property
    def configuration(self) -> AgentAuthConfiguration:
        return self._config

    def get_token_credential(self) -> Any:
        return None

    async def get_access_token(
        self, resource_url: str, scopes: list[str], force_refresh: bool = False
    ) -> str:
        return "outbound-test-token"

    async def acquire_token_on_behalf_of(self, scopes: list[str], user_assertion: str) -> str:
        return "outbound-test-token"

    async def get_agentic_application_token(self, *args: Any, **kwargs: Any) -> str:
        return "outbound-test-token"

    async def get_agentic_instance_token(self, *args: Any, **kwargs: Any) -> tuple[str, str]:
        return "outbound-test-token", ""

    async def get_agentic_user_token(self, *args: Any, **kwargs: Any) -> str:
        return "outbound-test-token"


class LocalConnections(Connections):
    """Outbound tokens without Entra ID: every request gets a fixed token."""

    def __init__(self, config: AgentAuthConfiguration) -> None:
        self._config = config
        self._provider = _StaticToken(config)

    def get_connection(self, connection_name: str) -> AccessTokenProviderBase:
        return self._provider

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self._provider

    def get_token_provider(self, claims_identity: Any, service_url: str) -> AccessTokenProviderBase:
        return self._provider

    def get_token_provider_from_activity(
        self, *args: Any, **kwargs: Any
    ) -> AccessTokenProviderBase:
        return self._provider

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self._config
