"""``POST /api/messages``: the Bot Framework endpoint, with token checks before the SDK.

Anonymous only when no app id is configured (Emulator / Playground). Otherwise every
request needs a valid Bot Framework token; anything wrong with it is a 401, never a 500.
"""

from __future__ import annotations

import json
import logging

import jwt
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.authorization import AgentAuthConfiguration, AuthTypes
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


async def _authorize(request: web.Request, config: AgentAuthConfiguration
                     ) -> web.Response | None:
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
    request["claims_identity"] = result
    return None


async def messages(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    refused = await _authorize(request, request.app[AUTH_CONFIG])
    if refused is not None:
        return refused
    try:
        body = await request.read()
        activity = Activity.model_validate(json.loads(body))
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "payload_too_large"}, status=413)
    except (ValueError, ValidationError):
        return web.json_response({"error": "invalid_activity"}, status=400)
    allowed = services.settings.tenant_allowlist
    if allowed and tenant_of(activity) not in allowed:
        log.warning("Activity from tenant %s refused (not in the allow-list)", tenant_of(activity))
        return web.json_response({"error": "tenant_not_allowed"}, status=403)
    return await services.adapter.process(request, services.bot)


def setup_messages_route(app: web.Application, settings: Settings) -> None:
    app[AUTH_CONFIG] = auth_configuration(settings)
    app.router.add_post("/api/messages", messages)
