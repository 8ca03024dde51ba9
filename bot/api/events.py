"""The contact-center side: interaction events in, interaction state out."""

from __future__ import annotations

from aiohttp import web

from ..interactions.events import InteractionEvent, InteractionStateOut
from ..services import SERVICES
from .errors import read_json
from .openapi import add_api_routes, api_route
from .security import requires

__all__ = ["setup_event_routes"]


@api_route("POST", "/api/v1/interactions/events", summary="Report an interaction event",
           request=InteractionEvent, response=InteractionStateOut, status=202,
           tags=("interactions",), errors=(404, 409))
@requires("platform")
async def post_event(request: web.Request) -> web.Response:
    """Store the event (a repeated ``eventId`` is acknowledged and ignored) and answer 202
    with the interaction's state; 409 when the agent has not installed the app (the event
    is kept and the card is sent when they install)."""
    event = await read_json(request, InteractionEvent)
    state = await request.app[SERVICES].interactions.handle_event(event)
    return web.json_response(state.wire(), status=202)


@api_route("GET", "/api/v1/interactions/{interaction_id}", summary="An interaction's state",
           response=InteractionStateOut, tags=("interactions",), errors=(404,))
@requires("platform")
async def get_interaction(request: web.Request) -> web.Response:
    interaction_id = request.match_info["interaction_id"]
    state = await request.app[SERVICES].interactions.state(interaction_id)
    return web.json_response(state.wire())


def setup_event_routes(app: web.Application) -> None:
    add_api_routes(app, post_event, get_interaction)
