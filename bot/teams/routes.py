"""Activity routing as data: a table of (selector, handler) pairs, first match wins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext

__all__ = ["Route", "Handler", "select_route", "is_type", "is_invoke", "is_card_submit"]

Handler = Callable[[TurnContext], Awaitable[None]]
Selector = Callable[[Activity], bool]


@dataclass(frozen=True)
class Route:
    name: str
    selector: Selector
    handler: Handler


def is_type(activity_type: str) -> Selector:
    return lambda activity: activity.type == activity_type


def is_invoke(name: str) -> Selector:
    return lambda activity: activity.type == "invoke" and activity.name == name


def is_card_submit(activity: Activity) -> bool:
    """A message an ``Action.Submit`` sent: no text, and a ``value`` object with a ``verb``
    (hosts without Universal Actions or dialogs send card buttons this way)."""
    value = activity.value
    return (
        activity.type == "message"
        and not (activity.text or "").strip()
        and isinstance(value, dict)
        and isinstance(value.get("verb"), str)
        and bool(value["verb"])
    )


def select_route(routes: tuple[Route, ...] | list[Route], activity: Activity) -> Route | None:
    return next((route for route in routes if route.selector(activity)), None)
