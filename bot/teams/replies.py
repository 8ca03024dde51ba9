"""Building the activities and invoke bodies the handlers answer with."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, Attachment, InvokeResponse
from microsoft_agents.hosting.core import ChannelAdapter, TurnContext

from ..notifier import ADAPTIVE_CARD

__all__ = ["card_body", "message_body", "send_card", "send_invoke_response", "card_message"]


def card_body(card: dict[str, Any]) -> dict[str, Any]:
    """The ``adaptiveCard/action`` answer that replaces the card with ``card``."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


def message_body(text: str) -> dict[str, Any]:
    """The ``adaptiveCard/action`` answer that shows ``text`` and leaves the card as it is."""
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def card_message(card: dict[str, Any]) -> Activity:
    return Activity(
        type="message", attachments=[Attachment(content_type=ADAPTIVE_CARD, content=card)]
    )


async def send_card(context: TurnContext, card: dict[str, Any]) -> str:
    response = await context.send_activity(card_message(card))
    return (response.id if response else "") or ""


async def send_invoke_response(
    context: TurnContext, body: dict[str, Any] | None, status: int = 200
) -> None:
    """Answer the invoke with ``body``: left in the turn state under the key where the
    adapter's ``send_activities`` leaves an ``invokeResponse`` activity and from which it
    answers the HTTP request once the turn ends.

    Put there directly rather than through ``send_activity``, which deep-copies the
    activity first: with a Customer Card as the body that is a copy of some 10 KB of
    nested dicts, about 0.4 ms per card action, for an activity that is never sent on.
    The invoke tests over HTTP fail if the SDK stops answering from this key.
    """
    # Plain dicts only: a pydantic model left inside the body makes the SDK answer 500.
    context.turn_state[ChannelAdapter.INVOKE_RESPONSE_KEY] = Activity(
        type="invokeResponse", value=InvokeResponse(status=status, body=body)
    )
