"""The Customer Card's buttons, whichever way a host delivers them.

Teams sends ``adaptiveCard/action``, ``task/fetch`` and ``task/submit`` invokes; a host
without Universal Actions or dialogs (the Bot Framework Emulator) posts the same action
data as a message (``Action.Submit``). Both paths parse the data the same way and call the
interaction services through this one class, so they share the verbs and the checks (only
the assigned agent may act: the services enforce that on every call). The services answer
with the card's view; the card is drawn here, and when the stored card message is to show
the same card, handed to the delivery to PUT as it is.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import TurnContext

from cards.customer_card import build_customer_card
from cards.view import FormView
from crm.errors import InputError
from crm.models import CrmRecord

from ..interactions.access import Actor
from ..interactions.actions import AgentActions, CardAnswer
from ..interactions.delivery import CardDelivery, PreparedCard
from ..interactions.record_forms import RecordForms

__all__ = ["CHANGING_VERBS", "FORM_VERBS", "CardActions", "actor_of", "require"]

# Verbs whose service call changes the interaction; the card message is then updated
# (``CardDelivery``). ``refresh`` (and any unknown verb) changes nothing.
CHANGING_VERBS = frozenset({"pin", "unpin", "search", "more"})
# Verbs that ask for a create or edit form (a dialog in Teams).
FORM_VERBS = frozenset({"create_form", "edit_form"})


def actor_of(context: TurnContext) -> Actor:
    """Who sent the activity, in the terms the interaction service checks."""
    user = context.activity.from_property
    return Actor(
        user.id if user else "",
        user.aad_object_id if user else None,
        context.activity.locale or "en-US",
    )


def require(data: dict[str, Any], *names: str) -> list[str]:
    """The values of ``names`` in the action data; ``InputError`` naming the first missing."""
    missing = [name for name in names if not isinstance(data.get(name), str) or not data[name]]
    if missing:
        raise InputError(f"Missing {', '.join(missing)}", field=missing[0])
    return [data[name] for name in names]


class CardActions:
    """Runs one button's action for an agent and returns what the services answer."""

    def __init__(self, actions: AgentActions, forms: RecordForms, delivery: CardDelivery) -> None:
        self._actions = actions
        self._forms = forms
        self._delivery = delivery

    async def act(
        self, verb: str, interaction_id: str, actor: Actor, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Pin, unpin, search, more or refresh (any other verb): the card as ``actor`` now
        sees it, read-only with a notice for anyone but the assigned agent."""
        actions = self._actions
        if verb in ("pin", "unpin"):
            record_type, record_id = require(data, "recordType", "recordId")
            change = actions.pin if verb == "pin" else actions.unpin
            answer = await change(interaction_id, actor, record_type, record_id)
        elif verb == "search":
            answer = await actions.search(interaction_id, actor, str(data.get("query") or ""))
        elif verb == "more":
            answer = await actions.more(interaction_id, actor)
        else:
            answer = await actions.refresh(interaction_id, actor)
        return self._card(interaction_id, answer)

    def _card(self, interaction_id: str, answer: CardAnswer) -> dict[str, Any]:
        card = build_customer_card(answer.view, universal_actions=answer.universal_actions)
        stored = answer.stored
        if stored is not None:
            self._delivery.schedule(
                interaction_id,
                PreparedCard(card, stored.reference, stored.activity_id, stored.change),
            )
        return card

    async def form(
        self, verb: str, interaction_id: str, actor: Actor, data: dict[str, Any]
    ) -> FormView:
        """The create form (``createType``) or, for ``edit_form``, the record's edit form."""
        if verb == "edit_form":
            record_type, record_id = require(data, "recordType", "recordId")
            return await self._forms.edit_form(interaction_id, actor, record_type, record_id)
        (record_type,) = require(data, "createType")
        return await self._forms.create_form(interaction_id, actor, record_type)

    async def submit(
        self, interaction_id: str, actor: Actor, data: dict[str, Any], mode: str
    ) -> FormView | CrmRecord:
        """Save a create (pinning the record) or edit form; the form again with its errors
        when the values do not pass."""
        (record_type,) = require(data, "recordType")
        if mode == "edit":
            (record_id,) = require(data, "recordId")
            return await self._forms.submit_edit(
                interaction_id, actor, record_type, record_id, data
            )
        return await self._forms.submit_create(interaction_id, actor, record_type, data)
