"""The agent the SDK's adapter drives: routes each activity and handles turn errors."""

from __future__ import annotations

import logging

from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.forms import task_message
from cards.i18n import has_message, translate
from cards.messages import build_notice_card
from cards.search_results import build_compose_extension_result
from crm.errors import AppError

from ..interactions.actions import AgentActions
from ..interactions.delivery import CardDelivery
from ..interactions.record_forms import RecordForms
from ..interactions.service import InteractionService
from ..notifier import Notifier
from .card_actions import CardActions
from .card_submits import CardSubmits
from .handlers import Handlers
from .replies import message_body, send_card, send_invoke_response
from .routes import Route, is_card_submit, is_invoke, is_type, select_route

__all__ = ["TeamsBot", "message_key"]

log = logging.getLogger(__name__)


class TeamsBot:
    """Implements the SDK's ``Agent`` protocol (``on_turn``)."""

    def __init__(
        self,
        *,
        interactions: InteractionService,
        actions: AgentActions,
        forms: RecordForms,
        delivery: CardDelivery,
        notifier: Notifier,
        sessions: async_sessionmaker[AsyncSession],
        development: bool,
    ) -> None:
        card_actions = CardActions(actions, forms, delivery)
        handlers = Handlers(
            interactions=interactions,
            agent_actions=actions,
            actions=card_actions,
            sessions=sessions,
            development=development,
        )
        submits = CardSubmits(card_actions, sessions=sessions, notifier=notifier)
        self.routes: tuple[Route, ...] = (
            # before "message": a card button's Action.Submit is a message without text
            Route("card submit", is_card_submit, submits.on_card_submit),
            Route("message", is_type("message"), handlers.on_message),
            Route(
                "installationUpdate", is_type("installationUpdate"), handlers.on_installation_update
            ),
            Route(
                "conversationUpdate", is_type("conversationUpdate"), handlers.on_conversation_update
            ),
            Route("adaptiveCard/action", is_invoke("adaptiveCard/action"), handlers.on_card_action),
            Route("task/fetch", is_invoke("task/fetch"), handlers.on_task_fetch),
            Route("task/submit", is_invoke("task/submit"), handlers.on_task_submit),
            Route(
                "composeExtension/query",
                is_invoke("composeExtension/query"),
                handlers.on_compose_query,
            ),
        )

    async def on_turn(self, context: TurnContext) -> None:
        route = select_route(self.routes, context.activity)
        if route is None:
            if context.activity.type == "invoke":
                await send_invoke_response(context, None, status=501)
            return
        try:
            await route.handler(context)
        except Exception as error:  # the one place a turn's failure becomes a reply
            await self.on_turn_error(context, error)

    async def on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """Log the error and tell the user briefly in their language; never the error text."""
        activity = context.activity
        if isinstance(error, AppError):
            log.warning(
                "Turn %s/%s failed: %s (%s)", activity.type, activity.name, error.code, error.detail
            )
            key = message_key(error)
        else:
            log.exception("Turn %s/%s failed", activity.type, activity.name, exc_info=error)
            key = "error_generic"
        text = translate(activity.locale, key)
        try:
            if activity.type != "invoke":
                await send_card(context, build_notice_card(activity.locale, key, level="error"))
            elif activity.name == "adaptiveCard/action":
                await send_invoke_response(context, message_body(text))
            elif activity.name in ("task/fetch", "task/submit"):
                await send_invoke_response(context, task_message(text))
            elif activity.name == "composeExtension/query":
                await send_invoke_response(
                    context, build_compose_extension_result([], activity.locale)
                )
            else:
                await send_invoke_response(context, None, status=500)
        except Exception:
            log.exception("Could not tell the user about the failed turn")


def message_key(error: AppError) -> str:
    """The catalogue key for an error: its own code, else the nearest class's that has text."""
    if has_message(error.code):
        return error.code
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and has_message(code):
            return code
    return "error_generic"
