"""``POST /api/messages``: the Bot Framework endpoint, with token checks before the SDK.

Anonymous only when no app id is configured (Emulator / Playground). Otherwise every
request needs a valid Bot Framework token; anything wrong with it is a 401, never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jwt
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    AuthTypes,
    ClaimsIdentity,
)
from microsoft_agents.hosting.core.authorization.jwt import _authorize_request
from microsoft_agents.hosting.core.http import HttpResponse
from pydantic import ValidationError

from ..services import SERVICES
from ..settings import Settings
from ..teams.installations import tenant_of

__all__ = ["auth_configuration", "setup_messages_route", "AUTH_CONFIG"]

log = logging.getLogger(__name__)

AUTH_CONFIG = web.AppKey("agent_auth_configuration", AgentAuthConfiguration)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's auth configuration for inbound validation and outbound tokens."""
    if settings.anonymous:
        return AgentAuthConfiguration(anonymous_allowed=True)
    auth_type = (AuthTypes.user_managed_identity if settings.app_type == "UserAssignedMSI"
                 else AuthTypes.client_secret)
    tenant = settings.app_tenant_id or (
        "botframework.com" if settings.app_type == "MultiTenant" else None)
    return AgentAuthConfiguration(
        auth_type=auth_type, client_id=settings.app_id, tenant_id=tenant,
        client_secret=settings.app_password.get_secret_value() or None,
        connection_name="SERVICE_CONNECTION", anonymous_allowed=False, validate_issuer=True,
    )


def _unauthorized(reason: str) -> web.Response:
    log.warning("Bot Framework request refused: %s", reason)
    return web.json_response({"error": "unauthorized", "message": reason}, status=401)


class _ValidatedRequest:
    """The SDK's request protocol over an aiohttp request whose token we checked (the SDK's
    own adapter reads the claims from a string request key, which aiohttp deprecates)."""

    def __init__(self, request: web.Request, body: dict[str, Any], claims: ClaimsIdentity):
        self._request, self._body, self._claims = request, body, claims

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Any:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        return self._body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._claims

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


async def _authorize(request: web.Request, config: AgentAuthConfiguration
                     ) -> web.Response | ClaimsIdentity:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            return _unauthorized("Malformed Authorization header.")
        try:
            token_header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _unauthorized("Malformed token.")
        # The SDK's validator raises an uncaught KeyError on a token without "kid".
        if not isinstance(token_header.get("kid"), str):
            return _unauthorized("Token without key id.")
        header = f"Bearer {token}"
    result = await _authorize_request(header, config)
    if isinstance(result, HttpResponse):
        if result.status_code >= 500:
            log.error("Bot authentication misconfigured: %s", result.body)
            return web.json_response({"error": "server_error"}, status=500)
        return _unauthorized("Missing or invalid token.")
    return result


async def messages(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    claims = await _authorize(request, request.app[AUTH_CONFIG])
    if isinstance(claims, web.Response):
        return claims
    try:
        body = json.loads(await request.read())
        activity = Activity.model_validate(body)
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "payload_too_large"}, status=413)
    except (ValueError, ValidationError):
        return web.json_response({"error": "invalid_activity"}, status=400)
    allowed = services.settings.tenant_allowlist
    if allowed and tenant_of(activity) not in allowed:
        log.warning("Activity from tenant %s refused (not in the allow-list)", tenant_of(activity))
        return web.json_response({"error": "tenant_not_allowed"}, status=403)
    response = await services.adapter.process_request(
        _ValidatedRequest(request, body, claims), services.bot)
    if response.body is not None:
        return web.json_response(response.body, status=response.status_code,
                                 headers=response.headers)
    return web.Response(status=response.status_code, headers=response.headers)


def setup_messages_route(app: web.Application, settings: Settings) -> None:
    app[AUTH_CONFIG] = auth_configuration(settings)
    app.router.add_post("/api/messages", messages)
