"""Small builders for the card elements every card here uses, so cards read as layout."""

from __future__ import annotations

from typing import Any, Literal

from microsoft_teams.cards.core import (
    Action,
    ActionSet,
    CardElement,
    Container,
    ExecuteAction,
    Fact,
    FactSet,
    OpenUrlAction,
    SubmitAction,
    TextBlock,
)

from cards.view import FieldView

__all__ = [
    "action_set",
    "execute",
    "facts",
    "heading",
    "notice_block",
    "open_url",
    "subtle",
    "task_fetch",
    "text",
    "truncate",
]

Level = Literal["info", "warning", "error"]

# Container style per notice level: the host picks readable colours for each.
_NOTICE_STYLE: dict[str, Literal["accent", "warning", "attention"]] = {
    "info": "accent",
    "warning": "warning",
    "error": "attention",
}


def truncate(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def text(value: str, **props: Any) -> TextBlock:
    """A wrapping TextBlock."""
    return TextBlock(text=value, wrap=True, **props)


def subtle(value: str, **props: Any) -> TextBlock:
    """A small, subtle TextBlock for secondary lines."""
    return TextBlock(text=value, wrap=True, is_subtle=True, size="Small", **props)


def heading(value: str, *, separator: bool = True) -> TextBlock:
    """A section heading."""
    return TextBlock(
        text=value,
        wrap=True,
        size="Medium",
        weight="Bolder",
        separator=separator,
        spacing="Large" if separator else None,
    )


def facts(fields: list[FieldView], *, empty: str, limit: int) -> FactSet:
    """A FactSet of label/value pairs, long values shortened to ``limit`` characters."""
    return FactSet(
        facts=[Fact(title=f.label, value=truncate(f.value, limit) or empty) for f in fields],
        spacing="Small",
    )


def notice_block(message: str, level: Level, *, block_id: str | None = None) -> Container:
    """A tinted box holding one short message (``block_id`` lets a reader find it again)."""
    return Container(
        id=block_id, style=_NOTICE_STYLE[level], items=[text(message)], spacing="Medium"
    )


def execute(title: str, verb: str, data: dict[str, Any], **props: Any) -> ExecuteAction:
    """An Action.Execute whose ``data`` carries the verb too (see ``cards.view``).

    Its ``fallback`` is an Action.Submit with the same title, data and options: hosts
    without Universal Actions (Adaptive Cards before 1.4, the Bot Framework Emulator) render
    that instead and post a message activity whose ``value`` is the data. Hosts that know
    Action.Execute, Teams among them, never look at the fallback.
    """
    payload = {"verb": verb, **data}
    fallback = SubmitAction(title=title, data=dict(payload), **props)
    return ExecuteAction(title=title, verb=verb, data=payload, fallback=fallback, **props)


def task_fetch(title: str, verb: str, data: dict[str, Any]) -> SubmitAction:
    """An Action.Submit that makes Teams send ``task/fetch`` (the only way to open a dialog).

    Hosts without dialogs post it as a plain message instead (``value`` = the data, the
    ``msteams`` key ignored); the bot answers those with the form inline on the card.
    """
    return SubmitAction(title=title, data={"msteams": {"type": "task/fetch"}, "verb": verb, **data})


def open_url(title: str, url: str) -> OpenUrlAction:
    """An Action.OpenUrl."""
    return OpenUrlAction(title=title, url=url)


def action_set(actions: list[Action], **props: Any) -> list[CardElement]:
    """An ActionSet in a one-element list, or no element at all when there are no actions."""
    return [ActionSet(actions=actions, **props)] if actions else []
