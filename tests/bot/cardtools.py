"""Reading cards the way an agent would: the texts shown and the buttons offered."""

from __future__ import annotations

from typing import Any

from tests.cards.cardcheck import walk

__all__ = ["walk", "texts", "pin_targets"]


def texts(card: dict[str, Any]) -> str:
    """Every text a user sees on the card, joined."""
    parts = []
    for node in walk(card):
        for key in ("text", "title", "value", "label"):
            if isinstance(node.get(key), str):
                parts.append(node[key])
    return "\n".join(parts)


def actions(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    """Action data of every button with ``verb`` (Action.Execute or task/fetch submit),
    not counting the card's automatic refresh."""
    found = []
    for node in walk(card.get("body", [])) if card.get("body") else []:
        if node.get("type") in ("Action.Execute", "Action.Submit"):
            data = node.get("data") or {}
            if node.get("verb", data.get("verb")) == verb:
                found.append({"verb": verb, **data})
    for node in card.get("actions") or []:
        data = node.get("data") or {}
        if node.get("verb", data.get("verb")) == verb:
            found.append({"verb": verb, **data})
    return found


def field_labels(record_block: dict[str, Any]) -> list[str]:
    """The field labels a record block shows: its label/value rows (column sets whose
    label column has a fixed width)."""
    return [
        node["columns"][0]["items"][0]["text"]
        for node in walk(record_block)
        if node.get("type") == "ColumnSet"
        and len(node.get("columns") or []) == 2
        and str(node["columns"][0].get("width", "")).endswith("px")
    ]


def pin_targets(
    card: dict[str, Any], verb: str = "pin", *, kind: str = "Action.Execute"
) -> dict[str, dict[str, Any]]:
    """Record title -> action data of its ``verb`` button (``kind``: ``Action.Submit``,
    as the Emulator gets, names the verb in its data)."""
    result = {}
    for node in walk(card.get("body", [])):
        if node.get("type") != "Container":
            continue
        items = node.get("items") or []
        # the record's title is its first text (a related record's sits in its summary row)
        title = next((i.get("text") for i in walk(items) if i.get("type") == "TextBlock"), None)
        if title is None:
            continue
        for action in walk(items):
            data = action.get("data") or {}
            named = action.get("verb") if kind == "Action.Execute" else data.get("verb")
            if action.get("type") == kind and named == verb:
                result[title] = data
    return result
