"""Thin activity handlers: parse the activity, call the service, build the card, reply."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.forms import build_form_card, task_continue, task_message
from cards.i18n import translate
from cards.messages import build_help_card, build_notice_card, build_whoami_card
from cards.search_results import build_compose_extension_result
from cards.view import FormView

from ..interactions.access import Actor
from ..interactions.actions import AgentActions
from ..interactions.events import AgentRef, InteractionEvent
from ..interactions.service import InteractionService
from ..interactions.store import installation_by_user
from .card_actions import CardActions, actor_of, require
from .commands import parse_command
from .installations import identity_of, is_personal, remove_installation, save_installation
from .replies import card_body, send_card, send_invoke_response

__all__ = ["Handlers"]

log = logging.getLogger(__name__)


def _invoke_data(context: TurnContext) -> dict[str, Any]:
    value = context.activity.value if isinstance(context.activity.value, dict) else {}
    if context.activity.name == "adaptiveCard/action":
        action = value.get("action") or {}
        data = dict(action.get("data") or {})
        data.setdefault("verb", action.get("verb", ""))
        return data
    return dict(value.get("data") or {})


class Handlers:
    """The bot's handlers over the interaction services."""

    def __init__(
        self,
        *,
        interactions: InteractionService,
        agent_actions: AgentActions,
        actions: CardActions,
        sessions: async_sessionmaker[AsyncSession],
        development: bool,
    ) -> None:
        self._interactions = interactions
        self._agent_actions = agent_actions
        self.actions = actions
        self._sessions = sessions
        self._development = development

    # ---------------------------------------------------------- installation

    async def on_installation_update(self, context: TurnContext) -> None:
        action = str(
            (context.activity.value or {}).get("action", "")
            if isinstance(context.activity.value, dict)
            else context.activity.action or ""
        )
        if not action:
            action = context.activity.action or ""
        if action.startswith("add"):
            await self._install(context)
        elif action.startswith("remove"):
            await self._uninstall(context)

    async def on_conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m.id for m in activity.members_added or []]
        removed = [m.id for m in activity.members_removed or []]
        if added and (
            bot_id in added or (activity.from_property and activity.from_property.id in added)
        ):
            await self._install(context)
        elif removed and bot_id in removed:
            await self._uninstall(context)

    async def _install(self, context: TurnContext) -> None:
        if not is_personal(context.activity) or context.activity.from_property is None:
            return
        identity = await identity_of(context)
        installation, created = await save_installation(self._sessions, context, identity)
        if not created:
            return  # the install's other activity (or a re-install) already welcomed
        log.info("Installed for Teams user %s", installation.teams_user_id)
        await send_card(context, build_help_card(context.activity.locale, self._development))
        await self._interactions.deliver_pending(installation)

    async def _uninstall(self, context: TurnContext) -> None:
        user = context.activity.from_property
        if user is not None and await remove_installation(self._sessions, user.id):
            log.info("Uninstalled for Teams user %s", user.id)

    # ---------------------------------------------------------- messages

    async def on_message(self, context: TurnContext) -> None:
        activity = context.activity
        locale = activity.locale
        if is_personal(activity) and activity.from_property is not None:
            await self._ensure_installed(context)
        command = parse_command(activity.text)
        if command.name == "help" or not command.name:
            await send_card(context, build_help_card(locale, self._development))
        elif command.name == "whoami":
            identity = await identity_of(context)
            shown = {
                k: identity[k]
                for k in ("teams_user_id", "aad_object_id", "tenant_id", "name", "email")
            }
            await send_card(context, build_whoami_card(locale, shown))
        elif command.name == "search":
            await self._search_command(context, command.argument)
        elif command.name.startswith("simulate"):
            await self._simulate(context, command.name, command.argument)
        else:
            await send_card(context, build_notice_card(locale, "unknown_command"))

    async def _ensure_installed(self, context: TurnContext) -> None:
        """The Emulator and Playground may never send an install event: any personal chat
        message gives us the conversation reference too."""
        user = context.activity.from_property
        async with self._sessions() as session:
            known = await installation_by_user(session, user.id)
        if known is None or known.locale != (context.activity.locale or known.locale):
            identity = await identity_of(context, with_member_api=known is None)
            if known is not None:
                identity = {**identity, "email": known.email or "", "upn": known.upn or ""}
            installation, _ = await save_installation(self._sessions, context, identity)
            if known is None:
                await self._interactions.deliver_pending(installation)

    async def _search_command(self, context: TurnContext, text: str) -> None:
        locale = context.activity.locale
        if not text.strip():
            await send_card(context, build_notice_card(locale, "help_search_usage"))
            return
        actor = actor_of(context)
        interaction_id = await self._interactions.active_interaction(actor.teams_user_id)
        if interaction_id is not None:
            # Results land in the card's Related section (the card is updated in place).
            await self.actions.act("search", interaction_id, actor, {"query": text})
            return
        views = await self._agent_actions.search_records(text, locale)
        if not views:
            await send_card(context, build_notice_card(locale, "search_no_results"))
            return
        for attachment in build_compose_extension_result(views, locale)["composeExtension"][
            "attachments"
        ]:
            await send_card(context, attachment["content"])

    async def _simulate(self, context: TurnContext, name: str, argument: str) -> None:
        locale = context.activity.locale
        if not self._development:
            await send_card(context, build_notice_card(locale, "simulate_dev_only"))
            return
        actor = actor_of(context)
        if name == "simulate end":
            interaction_id = await self._interactions.active_interaction(actor.teams_user_id)
            if interaction_id is None:
                await send_card(context, build_notice_card(locale, "not_found"))
                return
            await self._interactions.handle_event(
                InteractionEvent(
                    type="ended",
                    event_id=f"sim-{uuid.uuid4().hex}",
                    interaction_id=interaction_id,
                    ended_by="agent",
                )
            )
            return
        if name not in ("simulate call", "simulate chat") or not argument:
            await send_card(context, build_notice_card(locale, "unknown_command"))
            return
        voice = name == "simulate call"
        user = context.activity.from_property
        interaction_id = f"sim-{uuid.uuid4().hex[:12]}"
        await self._interactions.handle_event(
            InteractionEvent(
                type="started",
                event_id=f"sim-{uuid.uuid4().hex}",
                interaction_id=interaction_id,
                contact_id=interaction_id,
                channel="voice" if voice else "digital",
                agent=AgentRef(
                    id=user.id,
                    name=user.name or "",
                    teams_user_id=user.id,
                    aad_object_id=user.aad_object_id,
                ),
                data={"ANI": argument, "Skill Name": "Simulation"}
                if voice
                else {"From": argument, "Skill Name": "Simulation"},
            )
        )

    # ---------------------------------------------------------- card actions

    async def on_card_action(self, context: TurnContext) -> None:
        data = _invoke_data(context)
        actor = actor_of(context)
        verb = str(data.get("verb") or "")
        (interaction_id,) = require(data, "interactionId")
        if verb == "save":
            card = await self._save_inline(interaction_id, actor, data)
        else:  # "refresh" and anything unknown: the current card
            card = await self.actions.act(verb, interaction_id, actor, data)
        await send_invoke_response(context, card_body(card))

    async def _save_inline(
        self, interaction_id: str, actor: Actor, data: dict[str, Any]
    ) -> dict[str, Any]:
        """The on-card form's submit (clients without dialogs)."""
        result = await self.actions.submit(interaction_id, actor, data, mode=str(data.get("mode")))
        if isinstance(result, FormView):
            return build_form_card(result, inline=True)
        return await self.actions.act("refresh", interaction_id, actor, data)

    async def on_task_fetch(self, context: TurnContext) -> None:
        data = _invoke_data(context)
        actor = actor_of(context)
        (interaction_id,) = require(data, "interactionId")
        verb = "edit_form" if data.get("verb") == "edit_form" else "create_form"
        form = await self.actions.form(verb, interaction_id, actor, data)
        await send_invoke_response(context, _form_reply(form))

    async def on_task_submit(self, context: TurnContext) -> None:
        data = _invoke_data(context)
        actor = actor_of(context)
        (interaction_id,) = require(data, "interactionId")
        result = await self.actions.submit(interaction_id, actor, data, mode=str(data.get("verb")))
        if isinstance(result, FormView):
            await send_invoke_response(context, _form_reply(result))
            return
        key = "record_created" if data.get("verb") == "create" else "record_updated"
        await send_invoke_response(context, task_message(translate(actor.locale, key)))

    # ---------------------------------------------------------- message extension

    async def on_compose_query(self, context: TurnContext) -> None:
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        text = ""
        for parameter in value.get("parameters") or []:
            if parameter.get("name") != "initialRun" and isinstance(parameter.get("value"), str):
                text = parameter["value"]
        locale = context.activity.locale
        views = await self._agent_actions.search_records(text, locale) if text.strip() else []
        await send_invoke_response(context, build_compose_extension_result(views, locale))


def _form_reply(form: FormView) -> dict[str, Any]:
    title_key = "form_title_create" if form.mode == "create" else "form_title_edit"
    return task_continue(
        build_form_card(form), translate(form.locale, title_key, type=form.type_label)
    )
