"""The Customer Card's buttons, whichever way a host delivers them.

Teams sends ``adaptiveCard/action``, ``task/fetch`` and ``task/submit`` invokes; a host
without Universal Actions or dialogs (the Bot Framework Emulator) posts the same action
data as a message (``Action.Submit``). Both paths parse the data the same way and call the
interaction service through this one class, so they share the verbs and the checks (only
the assigned agent may act: the service enforces that on every call).
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.hosting.core import TurnContext

from cards.view import FormView
from crm.errors import InputError
from crm.models import CrmRecord

from ..interactions.service import Actor, InteractionService
from ..services import Services

__all__ = ["CHANGING_VERBS", "FORM_VERBS", "CardActions", "actor_of", "require"]

# Verbs whose service call changes the interaction; the service then updates the card
# message itself (``CardSync``). ``refresh`` (and any unknown verb) changes nothing.
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
    """Runs one button's action for an agent and returns what the service answers."""

    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def _service(self) -> InteractionService:
        # Looked up per call: the service exists only once the app has started.
        return self._services.interactions

    async def act(
        self, verb: str, interaction_id: str, actor: Actor, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Pin, unpin, search, more or refresh (any other verb): the card as ``actor`` now
        sees it, read-only with a notice for anyone but the assigned agent."""
        service = self._service
        if verb in ("pin", "unpin"):
            record_type, record_id = require(data, "recordType", "recordId")
            change = service.pin if verb == "pin" else service.unpin
            return await change(interaction_id, actor, record_type, record_id)
        if verb == "search":
            return await service.search(interaction_id, actor, str(data.get("query") or ""))
        if verb == "more":
            return await service.more(interaction_id, actor)
        return await service.refresh(interaction_id, actor)

    async def form(
        self, verb: str, interaction_id: str, actor: Actor, data: dict[str, Any]
    ) -> FormView:
        """The create form (``createType``) or, for ``edit_form``, the record's edit form."""
        if verb == "edit_form":
            record_type, record_id = require(data, "recordType", "recordId")
            return await self._service.edit_form(interaction_id, actor, record_type, record_id)
        (record_type,) = require(data, "createType")
        return await self._service.create_form(interaction_id, actor, record_type)

    async def submit(
        self, interaction_id: str, actor: Actor, data: dict[str, Any], mode: str
    ) -> FormView | CrmRecord:
        """Save a create (pinning the record) or edit form; the form again with its errors
        when the values do not pass."""
        (record_type,) = require(data, "recordType")
        if mode == "edit":
            (record_id,) = require(data, "recordId")
            return await self._service.submit_edit(
                interaction_id, actor, record_type, record_id, data
            )
        return await self._service.submit_create(interaction_id, actor, record_type, data)
