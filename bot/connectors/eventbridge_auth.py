"""The authorizations an EventBridge API destination's connection sends (its documented
three: API key header, Basic, OAuth client credentials), checked in constant time.

For OAuth client credentials this service is the authorization endpoint: EventBridge posts
the client id and secret (Basic) to ``.../amazon-connect/oauth/token`` and sends the
access token it gets as ``Authorization: Bearer`` with each event. The token is a JWT
signed with the client secret (HS256, one hour), so rotating the secret revokes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Mapping

import jwt

from .store import ActiveConnector

__all__ = ["authorized", "basic_credentials", "issue_token", "TOKEN_SECONDS"]

TOKEN_SECONDS = 3600
_AUDIENCE = "customer-card/amazon-connect"


def _key(secret: str) -> bytes:
    # HS256 wants 32 bytes or more; any client secret becomes one such key
    return hashlib.sha256(f"{_AUDIENCE}:{secret}".encode()).digest()


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def issue_token(connector: ActiveConnector, client_id: str, client_secret: str) -> str | None:
    """An access token for the connector's OAuth client, or None for wrong credentials."""
    if not (
        connector.secret_equals("client_id", client_id)
        & connector.secret_equals("client_secret", client_secret)
    ):
        return None
    expected_secret = connector.secret("client_secret")
    now = int(time.time())
    claims = {"sub": client_id, "aud": _AUDIENCE, "iat": now, "exp": now + TOKEN_SECONDS}
    return jwt.encode(claims, _key(expected_secret or ""), algorithm="HS256")


def authorized(connector: ActiveConnector, headers: Mapping[str, str]) -> bool:
    """Whether ``headers`` carry the connection's authorization."""
    settings = connector.settings
    header = headers.get("Authorization", "")
    if settings.auth == "api_key":
        return connector.secret_equals("api_key", headers.get(settings.api_key_header, ""))
    if settings.auth == "basic":
        given = basic_credentials(header)
        return given is not None and bool(
            connector.secret_equals("username", given[0])
            & connector.secret_equals("password", given[1])
        )
    scheme, _, token = header.partition(" ")
    secret = connector.secret("client_secret")
    if scheme.lower() != "bearer" or not token or not secret:
        return False
    try:
        claims = jwt.decode(token.strip(), _key(secret), algorithms=["HS256"], audience=_AUDIENCE)
    except jwt.InvalidTokenError:
        return False
    return connector.secret_equals("client_id", str(claims.get("sub", "")))
