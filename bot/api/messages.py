"""``POST /api/messages``: the Bot Framework endpoint, with token checks before the SDK.

Anonymous only when no app id is configured (Emulator / Playground). Otherwise every
request needs a valid Bot Framework token; anything wrong with it is a 401, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from aiohttp import web
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    AuthTypes,
    ClaimsIdentity,
)
from microsoft_agents.hosting.core.authorization.jwt import _authorize_request
from microsoft_agents.hosting.core.http import HttpResponse
from pydantic import ValidationError

from crm.errors import InputError

from .. import bot_keys, sdk_tuning
from ..observability.logs import log_context
from ..observability.metrics import app_metrics
from ..services import SERVICES
from ..settings import Settings
from ..teams.installations import tenant_of
from ..wire import dumps
from .errors import error_response, forbidden, unauthorized
from .inputs import parse_json

__all__ = [
    "auth_configuration",
    "setup_messages_route",
    "AUTH_CONFIG",
    "activity_labels",
    "status_outcome",
    "correlation_ids",
]

log = logging.getLogger(__name__)

AUTH_CONFIG = web.AppKey("agent_auth_configuration", AgentAuthConfiguration)


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's auth configuration for inbound validation and outbound tokens."""
    if settings.anonymous:
        return AgentAuthConfiguration(anonymous_allowed=True)
    auth_type = (
        AuthTypes.user_managed_identity
        if settings.app_type == "UserAssignedMSI"
        else AuthTypes.client_secret
    )
    tenant = settings.app_tenant_id or (
        "botframework.com" if settings.app_type == "MultiTenant" else None
    )
    return AgentAuthConfiguration(
        auth_type=auth_type,
        client_id=settings.app_id,
        tenant_id=tenant,
        client_secret=settings.app_password.get_secret_value() or None,
        connection_name="SERVICE_CONNECTION",
        anonymous_allowed=False,
        validate_issuer=True,
    )


def _unauthorized(reason: str) -> web.Response:
    log.warning("Bot Framework request refused: %s", reason)
    return unauthorized(reason)


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


async def _authorize(
    request: web.Request, config: AgentAuthConfiguration
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
            return error_response(500, "server_error", "Bot authentication is misconfigured.")
        return _unauthorized("Missing or invalid token.")
    return result


async def messages(request: web.Request) -> web.StreamResponse:
    """Check the token, parse the activity and hand it to the SDK; every activity is counted
    by type, name and outcome, and the turn's log lines carry its ids."""
    claims = await _authorize(request, request.app[AUTH_CONFIG])
    if isinstance(claims, web.Response):
        return _counted(request, claims, None)
    try:
        body = parse_json(await request.read())
        activity = Activity.model_validate(body)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SERVICES].settings.max_body_bytes
        too_large = error_response(413, "payload_too_large", f"Request body over {limit} bytes.")
        return _counted(request, too_large, None)
    except (InputError, ValidationError) as exc:
        field = exc.field if isinstance(exc, InputError) else None
        invalid = error_response(
            400, "invalid_activity", "The body is not a valid activity.", field=field
        )
        return _counted(request, invalid, None)
    with log_context(**correlation_ids(body)):
        try:
            response = await _process(request, body, activity, claims)
        except Exception:
            _count(request, body, "error")
            raise
    return _counted(request, response, body)


async def _process(
    request: web.Request, body: dict[str, Any], activity: Activity, claims: ClaimsIdentity
) -> web.Response:
    services = request.app[SERVICES]
    allowed = services.settings.tenant_allowlist
    if allowed and tenant_of(activity) not in allowed:
        log.warning("Activity from tenant %s refused (not in the allow-list)", tenant_of(activity))
        return forbidden("tenant_not_allowed", "This Teams tenant is not allowed.")
    response = await services.adapter.process_request(
        _ValidatedRequest(request, body, claims), services.bot
    )
    if response.body is not None:
        return web.json_response(
            response.body, status=response.status_code, headers=response.headers, dumps=dumps
        )
    return web.Response(status=response.status_code, headers=response.headers)


# ---------------------------------------------------------------- metrics and correlation

_ACTIVITY_TYPES = frozenset(t.value for t in ActivityTypes)
_MAX_LABEL = 64  # invoke and event names come from the channel: keep label values short


def activity_labels(body: Any) -> tuple[str, str]:
    """(type, name) of an activity body for the metrics: unknown types read ``other``, and
    only invokes and events have a name."""
    if not isinstance(body, dict):
        return "unknown", ""
    type_ = body.get("type")
    if type_ not in _ACTIVITY_TYPES:
        return "other", ""
    name = body.get("name")
    if type_ not in ("invoke", "event") or not isinstance(name, str):
        return str(type_), ""
    return str(type_), name[:_MAX_LABEL]


def status_outcome(status: int) -> str:
    """The ``outcome`` label of an HTTP answer."""
    if status < 400:
        return "ok"
    return {401: "unauthorized", 403: "forbidden", 400: "invalid", 413: "invalid"}.get(
        status, "rejected" if status < 500 else "error"
    )


def correlation_ids(body: dict[str, Any]) -> dict[str, str | None]:
    """Log correlation ids of an activity: its id and, for card actions and dialogs, the
    interaction the button belongs to."""
    value = body.get("value")
    data: Any = None
    if isinstance(value, dict):
        action = value.get("action")
        data = action.get("data") if isinstance(action, dict) else value.get("data")
    interaction = data.get("interactionId") if isinstance(data, dict) else None
    activity_id = body.get("id")
    return {"activity_id": _short_id(activity_id), "interaction_id": _short_id(interaction)}


def _short_id(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def _count(request: web.Request, body: Any, outcome: str) -> None:
    metrics = app_metrics(request.app)
    if metrics is not None:
        metrics.count_activity(*activity_labels(body), outcome)


def _counted(request: web.Request, response: web.Response, body: Any) -> web.Response:
    _count(request, body, status_outcome(response.status))
    return response


def setup_messages_route(app: web.Application, settings: Settings) -> None:
    sdk_tuning.apply()
    bot_keys.install()
    app[AUTH_CONFIG] = auth_configuration(settings)
    app.router.add_post("/api/messages", messages)
