"""Checks every card test uses: the official schema, the action contract, the size limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from cards import MAX_CARD_BYTES

SCHEMA_FILE = Path(__file__).parent / "schema" / "adaptive-card-1.5.json"

# Teams host extensions the official schema does not list, with the values we allow.
TEAMS_CARD_EXTENSIONS = {"msteams": [{"width": "full"}]}

EXECUTE_VERBS = {"refresh", "pin", "unpin", "search", "more", "save"}
RECORD_VERBS = {"pin", "unpin", "edit_form"}
TASK_FETCH_VERBS = {"create_form", "edit_form"}
DIALOG_SUBMIT_VERBS = {"create", "edit"}


@cache
def _validator() -> jsonschema.Draft6Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(card: dict[str, Any]) -> list[str]:
    """Every way ``card`` breaks the Adaptive Cards 1.5 schema (empty when valid)."""
    problems = []
    plain = dict(card)
    for key, allowed in TEAMS_CARD_EXTENSIONS.items():
        if key in plain and plain.pop(key) not in allowed:
            problems.append(f"{key}: {card[key]!r} is not one of {allowed!r}")
    for error in _validator().iter_errors(plain):
        path = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{path}: {error.message[:200]}")
    return problems


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside ``node``, depth first, ``node`` included."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def _walk_buttons(node: Any) -> Iterator[dict[str, Any]]:
    """Like ``walk``, but not into an action's ``fallback`` (what old hosts show instead)."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "fallback":
                yield from _walk_buttons(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_buttons(item)


def actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action on the card (card actions, ActionSets, the refresh action), without
    the fallbacks that stand in for them on hosts that lack a feature."""
    return [n for n in _walk_buttons(card) if str(n.get("type", "")).startswith("Action.")]


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions an agent can click: ``actions`` without the automatic refresh."""
    refresh = (card.get("refresh") or {}).get("action")
    return [a for a in actions(card) if a is not refresh]


def fallback_errors(card: dict[str, Any]) -> list[str]:
    """How the card's Action.Execute buttons miss their Action.Submit fallback.

    Every Execute button must fall back to an Action.Submit with the same title, data and
    options, so that a host without Universal Actions posts the same data as a message.
    The automatic ``refresh`` needs none: hosts without Universal Actions ignore it.
    """
    problems = []
    for action in buttons(card):
        if action["type"] != "Action.Execute":
            if "fallback" in action:
                problems.append(f"{action['type']} with a fallback: {action}")
            continue
        fallback = action.get("fallback")
        if not isinstance(fallback, dict) or fallback.get("type") != "Action.Submit":
            problems.append(f"Execute {action.get('verb')!r} without a Submit fallback")
            continue
        mirrored = {k: v for k, v in action.items() if k not in ("type", "verb", "fallback")}
        if {k: v for k, v in fallback.items() if k != "type"} != mirrored:
            problems.append(f"fallback differs from its Execute: {action}")
        if "msteams" in (fallback.get("data") or {}):
            problems.append(f"fallback with Teams-only data: {fallback}")
    return problems


def inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(card) if str(n.get("type", "")).startswith("Input.")]


def texts(card: dict[str, Any]) -> list[str]:
    """All text a person reads on the card: text blocks, facts, labels, button titles."""
    found: list[str] = []
    for node in walk(card):
        keys = ("text", "title", "label", "placeholder")
        found += [node[k] for k in keys if isinstance(node.get(k), str)]
        if "title" in node and isinstance(node.get("value"), str):  # facts and choices
            found.append(node["value"])
    return found


def card_bytes(card: dict[str, Any]) -> int:
    """UTF-8 JSON size, compact and with escapes, whichever is larger."""
    compact = json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return max(len(compact), len(json.dumps(card).encode("utf-8")))


def contract_errors(card: dict[str, Any], interaction_id: str) -> list[str]:
    """How the card's actions break the action data contract in ``cards/view.py``."""
    problems = []
    ids = {node["id"] for node in walk(card.get("body", [])) if "id" in node}
    for action in actions(card):
        kind, data = action["type"], action.get("data")
        if kind == "Action.ToggleVisibility":
            targets = [t["elementId"] for t in action.get("targetElements", [])]
            if not targets or not set(targets) <= ids:
                problems.append(f"ToggleVisibility with unknown targets: {action}")
            continue
        if kind == "Action.OpenUrl":
            if not str(action.get("url", "")).startswith("https://"):
                problems.append(f"OpenUrl without an https url: {action}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{kind} without object data: {action}")
            continue
        verb = data.get("verb")
        if data.get("interactionId") != interaction_id:
            problems.append(f"{kind} {verb}: interactionId {data.get('interactionId')!r}")
        if kind == "Action.Execute":
            if action.get("verb") != verb or verb not in EXECUTE_VERBS:
                problems.append(f"Execute verb {action.get('verb')!r} / data verb {verb!r}")
        elif kind == "Action.Submit":
            task_fetch = data.get("msteams") == {"type": "task/fetch"}
            if task_fetch and verb not in TASK_FETCH_VERBS:
                problems.append(f"task/fetch submit with verb {verb!r}")
            if not task_fetch and verb not in DIALOG_SUBMIT_VERBS:
                problems.append(f"plain submit with verb {verb!r}")
        else:
            problems.append(f"unexpected action type {kind}")
        if verb in RECORD_VERBS and not (data.get("recordType") and data.get("recordId")):
            problems.append(f"{verb} without recordType/recordId: {data}")
    return problems + fallback_errors(card)


def assert_valid_card(card: dict[str, Any]) -> None:
    """Schema-valid, version 1.5, and within Teams' size limit."""
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert schema_errors(card) == []
    assert card_bytes(card) < MAX_CARD_BYTES
