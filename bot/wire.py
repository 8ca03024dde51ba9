"""The one serializer of every activity body the service sends: no JSON ``null`` members.

The Bot Connector (and Microsoft 365 Agents Playground, which validates with zod:
``z.string().optional()`` accepts a missing ``id`` but refuses ``"id": null`` with 400
"Invalid input") wants absent fields left out. The Agents SDK's own serializer,
``model_dump(by_alias=True, exclude_unset=True, mode="json")``, writes every field that was
*set*, also when it was set to ``None`` -- and the SDK sets some itself
(``ChannelServiceAdapter.send_activities`` sets ``activity.id = None`` before
``send_to_conversation``; ``apply_conversation_reference`` sets ``locale`` even when the
reference has none). So the bodies are cleaned where they become JSON:

- the notifier's direct calls (``bot/notifier.py``) serialize with :func:`dumps`;
- the SDK's connector clients get :func:`dumps` as their session's JSON serializer
  (:class:`WireClientFactory`, the adapter's client factory): replies, proactive turns;
- invoke answers and other ``/api/messages`` answers are written with :func:`dumps`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientSession
from microsoft_agents.hosting.core import RestChannelServiceClientFactory, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector import ConnectorClientBase

__all__ = ["WireClientFactory", "dumps", "without_nulls"]


def without_nulls(value: Any) -> Any:
    """``value`` with every ``None`` member of its objects (at any depth) left out; list
    items stay (a ``null`` item is not a member). What holds no null is returned as is,
    not copied."""
    if isinstance(value, dict):
        changed = False
        kept: dict[Any, Any] = {}
        for key, item in value.items():
            if item is None:
                changed = True
                continue
            clean = without_nulls(item) if isinstance(item, (dict, list)) else item
            changed = changed or clean is not item
            kept[key] = clean
        return kept if changed else value
    if isinstance(value, list):
        items = [without_nulls(item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def dumps(value: Any) -> str:
    """JSON text of an outgoing body, without ``null`` members.

    A body is mostly a card that holds no ``None`` (cards are dumped with
    ``exclude_none``), and walking it in Python to find none cost more than writing it. So
    it is written first (in C): a text without ``null`` anywhere came from a value without
    ``None``, and is the answer. Only when ``null`` appears (a ``None``, or those letters in
    a string) is the value cleaned and written again."""
    text = json.dumps(value, ensure_ascii=False, separators=_COMPACT)
    if "null" not in text:
        return text
    return json.dumps(without_nulls(value), ensure_ascii=False, separators=_COMPACT)


_COMPACT = (",", ":")


class WireClientFactory(RestChannelServiceClientFactory):
    """The SDK's client factory whose connector clients send JSON through :func:`dumps`."""

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        client = await super().create_connector_client(
            context, claims_identity, service_url, audience, scopes, use_anonymous
        )
        session = getattr(client, "client", None)
        if isinstance(session, ClientSession):
            # aiohttp takes the serializer only in the constructor, which the SDK calls;
            # tests/bot/test_wire.py fails if a new aiohttp or SDK moves it.
            session._json_serialize = dumps
        return client
