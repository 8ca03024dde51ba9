"""The contact-center side: interaction events in, interaction state out."""

from __future__ import annotations

import logging

from aiohttp import web

from crm.errors import AppError

from ..interactions.events import EVENT_TYPES, InteractionEvent, InteractionStateOut
from ..observability.logs import log_context
from ..observability.metrics import app_metrics, error_outcome
from ..services import SERVICES
from .openapi import add_api_routes, api_route
from .request_body import read_json
from .security import requires

__all__ = ["setup_event_routes"]

log = logging.getLogger(__name__)


@api_route(
    "POST",
    "/api/v1/interactions/events",
    summary="Report an interaction event",
    request=InteractionEvent,
    response=InteractionStateOut,
    status=202,
    tags=("interactions",),
    errors=(404, 409),
)
@requires("platform")
async def post_event(request: web.Request) -> web.Response:
    """Store the event (a repeated ``eventId`` is acknowledged and ignored) and answer 202
    with the interaction's state; 409 when the agent has not installed the app (the event
    is kept and the card is sent when they install)."""
    try:
        event = await read_json(request, InteractionEvent)
    except AppError as exc:
        _count(request, "invalid", error_outcome(exc))
        raise
    with log_context(interaction_id=event.interaction_id, configuration_id=event.configuration_id):
        try:
            state = await request.app[SERVICES].interactions.handle_event(event)
        except AppError as exc:
            _count(request, event.type, error_outcome(exc))
            log.info("Interaction event %s (%s): %s", event.event_id, event.type, exc.code)
            raise
        except Exception:
            _count(request, event.type, "error")
            raise
        outcome = "duplicate" if state.duplicate else "accepted"
        _count(request, event.type, outcome)
        log.info("Interaction event %s (%s): %s", event.event_id, event.type, outcome)
    return web.json_response(state.wire(), status=202)


@api_route(
    "GET",
    "/api/v1/interactions/{interaction_id}",
    summary="An interaction's state",
    response=InteractionStateOut,
    tags=("interactions",),
    errors=(404,),
)
@requires("platform")
async def get_interaction(request: web.Request) -> web.Response:
    interaction_id = request.match_info["interaction_id"]
    state = await request.app[SERVICES].interactions.state(interaction_id)
    return web.json_response(state.wire())


def _count(request: web.Request, type_: str, outcome: str) -> None:
    metrics = app_metrics(request.app)
    if metrics is not None:
        metrics.count_event(type_ if type_ in EVENT_TYPES else "invalid", outcome)


def setup_event_routes(app: web.Application) -> None:
    add_api_routes(app, post_event, get_interaction)
