"""Reading a Customer Card's notices back out of its JSON.

In Teams an action's answer is the updated card itself, notices included. A host that
sends ``Action.Submit`` instead (the Bot Framework Emulator) gets no card in answer: the
bot updates the stored card message, which shows the card as its owner sees it, without
the clicker's notices. These helpers let the bot tell that clicker what the card would
have told them ("only the assigned agent can act", "the search found no records", a CRM
error), as a small card of its own.

The Customer Card marks each notice box with an ``id`` starting ``notice-``; the box that
says why a card is read-only is ``notice-read-only``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["READ_ONLY_NOTICE_ID", "build_notices_card", "is_read_only_card", "notice_id"]

_PREFIX = "notice-"
READ_ONLY_NOTICE_ID = f"{_PREFIX}read-only"


def notice_id(index: int) -> str:
    """The ``id`` of the card's ``index``-th ordinary notice box."""
    return f"{_PREFIX}{index}"


def _notice_blocks(card: dict[str, Any]) -> list[dict[str, Any]]:
    # Notices sit at the top level of the body, right below the header.
    return [
        element
        for element in card.get("body") or []
        if isinstance(element, dict) and str(element.get("id", "")).startswith(_PREFIX)
    ]


def is_read_only_card(card: dict[str, Any]) -> bool:
    """Whether ``card`` is a read-only Customer Card (it says why in a notice)."""
    return any(block.get("id") == READ_ONLY_NOTICE_ID for block in _notice_blocks(card))


def build_notices_card(card: dict[str, Any]) -> dict[str, Any] | None:
    """The notices ``card`` shows, as a card of their own; ``None`` when it shows none.

    A message shown twice (a read-only reason is both the card's state and the action's
    answer) appears once.
    """
    blocks: list[dict[str, Any]] = []
    seen: set[str] = set()
    for block in _notice_blocks(card):
        message = repr(block.get("items"))
        if message not in seen:
            seen.add(message)
            blocks.append(block)
    if not blocks:
        return None
    return {"type": "AdaptiveCard", "version": card.get("version", "1.5"), "body": blocks}
