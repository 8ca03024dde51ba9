"""The platforms' own calls in: each authenticated as its platform defines it (bad or
missing credentials 401), translated by the platform's pure module and handed to the
connectors' inbox (stored once, applied in order)."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl

from aiohttp import web

from crm.errors import InputError, NotFoundError

from ..connectors import ActiveConnector
from ..connectors.amazon_connect import parse_contact_event, translate_contact_event
from ..connectors.connect_api import ConnectApi
from ..connectors.cxone import CxoneWorkflowCall, cxone_events, execute_request
from ..connectors.eventbridge_auth import TOKEN_SECONDS, authorized, basic_credentials, issue_token
from ..connectors.models import PLATFORM_LABELS
from ..connectors.twilio import SIGNATURE_HEADER, translate_taskrouter, valid_signature
from ..services import SERVICES
from .errors import unauthorized
from .openapi import add_api_routes, api_route
from .request_body import read_body, read_json
from .workflows import workflow_response

__all__ = ["add_routes", "active_connector"]

log = logging.getLogger(__name__)


async def active_connector(request: web.Request, platform: str) -> ActiveConnector:
    connector = await request.app[SERVICES].connectors.active(platform)
    if connector is None:
        raise NotFoundError(
            f"The {PLATFORM_LABELS[platform]} connector is not set up or not active",
            code="unknown_connector",
        )
    return connector


@api_route(
    "POST",
    "/api/v1/connectors/twilio/taskrouter",
    summary="Twilio TaskRouter event callback (form-encoded, signed: X-Twilio-Signature)",
    tags=("connectors",),
    errors=(401, 404),
    public=True,
)
async def twilio_taskrouter(request: web.Request) -> web.Response:
    connector = await active_connector(request, "twilio")
    raw = await read_body(request)
    params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    url = connector.settings.callback_url or str(request.url)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    token = connector.secret("auth_token") or ""
    if not signature or not valid_signature(url, params, signature, token):
        log.info("TaskRouter callback refused: bad or missing %s", SIGNATURE_HEADER)
        return unauthorized(f"Missing or invalid {SIGNATURE_HEADER}.")
    if params.get("AccountSid") != connector.settings.account_sid:
        return unauthorized("The event is from another Twilio account.")
    events = translate_taskrouter(params, connector.settings)
    received = await request.app[SERVICES].inbox.deliver(connector, events)
    return web.json_response(received.wire())


@api_route(
    "POST",
    "/api/v1/connectors/amazon-connect/events",
    summary="Amazon Connect contact events from an EventBridge API destination "
    "(its connection's API key header, Basic or OAuth client-credentials token)",
    tags=("connectors",),
    errors=(400, 401, 404, 502),
    public=True,
)
async def amazon_connect_events(request: web.Request) -> web.Response:
    connector = await active_connector(request, "amazon-connect")
    if not authorized(connector, request.headers):
        log.info("Amazon Connect event refused: connection authorization not accepted")
        return unauthorized("Missing or invalid API destination authorization.")
    raw = await read_body(request)
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"Body is not valid JSON: {exc}", code="invalid_json") from None
    event = parse_contact_event(body)
    if event is None or not event.followed:
        return web.json_response({"accepted": 0, "ignored": True})
    if event.instance_arn and event.instance_arn != connector.settings.instance_arn:
        raise InputError(
            "detail.instanceArn: not this connector's Amazon Connect instance",
            code="invalid_field",
            field="detail.instanceArn",
        )
    services = request.app[SERVICES]
    details = await ConnectApi(services.http, connector).details(event)
    events = translate_contact_event(event, details, connector.settings)
    received = await services.inbox.deliver(connector, events)
    return web.json_response(received.wire())


@api_route(
    "POST",
    "/api/v1/connectors/amazon-connect/oauth/token",
    summary="OAuth client-credentials token for the EventBridge connection "
    "(client id and secret as Basic authorization or form fields)",
    tags=("connectors",),
    errors=(401, 404),
    public=True,
)
async def amazon_connect_token(request: web.Request) -> web.Response:
    connector = await active_connector(request, "amazon-connect")
    given = basic_credentials(request.headers.get("Authorization", ""))
    if given is None:
        form = dict(parse_qsl((await read_body(request)).decode("utf-8", "replace")))
        given = (form.get("client_id", ""), form.get("client_secret", ""))
    token = issue_token(connector, *given) if connector.settings.auth == "oauth" else None
    if token is None:
        return unauthorized("Invalid client credentials.")
    return web.json_response(
        {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
    )


@api_route(
    "POST",
    "/api/v1/connectors/nice-cxone/configuration/{configurationId}/workflow/{workflowId}",
    summary="NICE CXone Studio: execute a workflow with the commercial anchor's request "
    "(Search, Create, Update, Timeline, DataMemorialization; cxoneContact assigns the agent)",
    request=CxoneWorkflowCall,
    tags=("connectors",),
    errors=(401, 404, 422, 502, 503, 504),
    public=True,
)
async def cxone_workflow(request: web.Request) -> web.Response:
    connector = await active_connector(request, "nice-cxone")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not connector.secret_equals("api_key", token.strip()):
        log.info("CXone call refused: bearer token not accepted")
        return unauthorized("Missing or invalid bearer token.")
    call = await read_json(request, CxoneWorkflowCall)
    if call.kind == "relatesto":
        raise InputError(
            "action: relatesTo is not supported; pin the record on the card instead",
            code="unsupported_action",
            field="action",
        )
    services = request.app[SERVICES]
    config_id = await services.directory.resolve_id(request.match_info["configurationId"])
    workflow_id = request.match_info["workflowId"]
    await services.directory.workflow(config_id, workflow_id)  # 404 for an unknown one
    events = cxone_events(call, config_id, connector.settings)
    received = await services.inbox.deliver(connector, events, configuration_id=config_id)
    execute = execute_request(call, config_id, workflow_id)
    if execute is None:
        return web.json_response(
            {
                "contactId": call.contact_id,
                "interactionId": call.interaction,
                "action": call.action,
                "result": [],
                "events": received.wire(),
            }
        )
    if execute.interaction_id and not await _known(request, execute.interaction_id):
        # a search in the IVR, before an agent has the contact: results only
        execute = execute.model_copy(update={"interaction_id": None})
    return await workflow_response(services, execute, config_id)


async def _known(request: web.Request, interaction_id: str) -> bool:
    try:
        await request.app[SERVICES].interactions.state(interaction_id)
    except NotFoundError:
        return False
    return True


def add_routes(app: web.Application) -> None:
    add_api_routes(
        app, twilio_taskrouter, amazon_connect_events, amazon_connect_token, cxone_workflow
    )
