"""Card buttons from hosts without Universal Actions or dialogs (the Bot Framework Emulator).

Such a host renders each ``Action.Execute``'s ``Action.Submit`` fallback, and posts the
Create/Edit ``Action.Submit`` (a dialog in Teams) as a plain message too: a message
activity with no text whose ``value`` is the action data (``verb``, ``interactionId``,
record ids, the card's inputs). Nothing carries a card back to the clicker, so:

- pin, unpin, search, more: the service changes the interaction and updates the stored
  card message in place, as it does for every change; nothing else is sent.
- refresh (and the inline form's Cancel): nothing changes, so the card is put back here.
- create_form / edit_form: the form replaces the card in place (``save`` submits it).
- save: errors show in the form, in place; a saved record goes to the card as in Teams.
- Anything the card would have said to the clicker (read-only reason, CRM error, "no
  results") comes as a short notice message. Only the assigned agent may act: the service
  checks that on every call, exactly as for invokes.
"""

from __future__ import annotations

import logging
from typing import Any

from microsoft_agents.hosting.core import TurnContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards import without_universal_actions
from cards.card_notices import build_notices_card, is_read_only_card
from cards.forms import build_form_card
from cards.view import FormView

from ..interactions.views import has_universal_actions
from ..notifier import Notifier
from ..storage.tables import InstallationRow, InteractionRow
from .card_actions import CHANGING_VERBS, FORM_VERBS, CardActions, actor_of, require
from .replies import send_card

__all__ = ["CardSubmits", "submitted_data"]

log = logging.getLogger(__name__)


def submitted_data(context: TurnContext) -> dict[str, Any]:
    """The action data of an ``Action.Submit`` message (its ``value``)."""
    value = context.activity.value
    return dict(value) if isinstance(value, dict) else {}


class CardSubmits:
    """Handles ``Action.Submit`` messages with the same actions as the invoke path."""

    def __init__(
        self,
        actions: CardActions,
        *,
        sessions: async_sessionmaker[AsyncSession],
        notifier: Notifier,
    ) -> None:
        self._actions = actions
        self._sessions = sessions
        self._notifier = notifier

    async def on_card_submit(self, context: TurnContext) -> None:
        data = submitted_data(context)
        actor = actor_of(context)
        verb = str(data.get("verb") or "")
        (interaction_id,) = require(data, "interactionId")
        if verb in FORM_VERBS:
            form = await self._actions.form(verb, interaction_id, actor, data)
            await self._show(context, interaction_id, build_form_card(form, inline=True))
        elif verb == "save":
            result = await self._actions.submit(
                interaction_id, actor, data, mode=str(data.get("mode"))
            )
            if isinstance(result, FormView):
                await self._show(context, interaction_id, build_form_card(result, inline=True))
            # else: the record was saved; the service updates the card message itself
        else:
            card = await self._actions.act(verb, interaction_id, actor, data)
            notices = build_notices_card(card)
            if notices is not None:
                await send_card(context, notices)
            if verb not in CHANGING_VERBS and not is_read_only_card(card):
                # Nothing changed, so the service will not update the message; it may
                # still show the inline form the agent just cancelled.
                await self._show(context, interaction_id, card)

    async def _show(self, context: TurnContext, interaction_id: str, card: dict[str, Any]) -> None:
        """Put ``card`` in place of the interaction's card message (PUT)."""
        target = await self._stored_card(interaction_id)
        if target is None:  # not posted yet (the look-up is still running): show it anyway
            if context.activity.channel_id == "emulator":
                card = without_universal_actions(card)
            await send_card(context, card)
            return
        reference, activity_id = target
        if not has_universal_actions(reference):  # e.g. the inline form's Save button
            card = without_universal_actions(card)
        await self._notifier.update_card(reference, activity_id, card)

    async def _stored_card(self, interaction_id: str) -> tuple[dict[str, Any], str] | None:
        """The conversation reference and activity id of the interaction's card message."""
        async with self._sessions() as session:
            row = await session.get(InteractionRow, interaction_id)
            if row is None or not row.card_activity_id or row.installation_id is None:
                return None
            installation = await session.get(InstallationRow, row.installation_id)
            if installation is None:
                return None
            return installation.reference, row.card_activity_id
