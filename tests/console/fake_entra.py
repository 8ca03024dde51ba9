"""A local stand-in for the Microsoft identity platform's OpenID Connect endpoints, as
documented at learn.microsoft.com/entra/identity-platform/v2-protocols-oidc (discovery
document with ``authorization_endpoint``, ``token_endpoint``, ``jwks_uri``, ``issuer``) and
v2-oauth2-auth-code-flow (authorization code with PKCE S256; the token answer's
``id_token``); ID token claims per id-token-claims-reference (``aud``, ``iss``, ``iat``,
``exp``, ``nonce``, ``preferred_username``, ``oid``, ``roles``, ``groups``).

``authorize`` answers a page whose one link, followed as a person would, goes back with a
code for the configured user (the way back starts on the provider's site, as with Entra);
``token`` checks the client secret, the redirect URI and the PKCE verifier."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "console-client-id"
CLIENT_SECRET = "console-client-secret-value"


@dataclass
class FakeEntra:
    base: str = ""
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "preferred_username": "megan@contoso.example",
            "oid": "oid-megan",
            "roles": ["CustomerCard.Admin"],
        }
    )
    nonce_override: str | None = None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def authority(self) -> str:
        return f"{self.base}/{TENANT}/v2.0"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", self.discovery)
        app.router.add_get(f"/{TENANT}/oauth2/v2.0/authorize", self.authorize)
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self.token)
        app.router.add_get(f"/{TENANT}/discovery/v2.0/keys", self.keys)
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.authority,
                "authorization_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/token",
                "jwks_uri": f"{self.base}/{TENANT}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["plain", "S256"],
            }
        )

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": query["code_challenge"],
            "nonce": query["nonce"],
            "redirect_uri": query["redirect_uri"],
            "client_id": query["client_id"],
        }
        back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        # the person confirms on the provider's own page, so the way back starts on its site
        link = html.escape(back, quote=True)
        page = f'<!doctype html><title>Sign in</title><a id="continue" href="{link}">Continue</a>'
        return web.Response(text=page, content_type="text/html")

    def _refuse(self, reason: str) -> web.Response:
        self.refused.append(reason)
        return web.json_response(
            {"error": "invalid_grant", "error_description": reason}, status=400
        )

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = self.codes.pop(str(form.get("code", "")), None)
        if grant is None:
            return self._refuse("unknown or used code")
        if form.get("client_secret") != CLIENT_SECRET or form.get("client_id") != CLIENT_ID:
            return self._refuse("client")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return self._refuse("redirect_uri")
        verifier = str(form.get("code_verifier", "")).encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if challenge.decode() != grant["challenge"]:
            return self._refuse("code_verifier")
        now = int(time.time())
        claims = {
            "aud": CLIENT_ID,
            "iss": self.authority,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": self.nonce_override or grant["nonce"],
            "tid": TENANT,
            **self.user,
        }
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "key-1"})
        return web.json_response(
            {
                "token_type": "Bearer",
                "id_token": id_token,
                "access_token": "unused",
                "expires_in": 3600,
            }
        )

    async def keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]})
