"""Pure parsing of the text commands agents type in the bot chat."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Command", "parse_command"]

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TWO_WORD = ("simulate call", "simulate chat", "simulate end")


@dataclass(frozen=True)
class Command:
    name: str  # "help", "whoami", "search", "simulate call", ... or "" for none
    argument: str = ""


def parse_command(text: str | None) -> Command:
    """``"<at>Bot</at> Simulate Call +49 30 1234567"`` -> ``Command("simulate call", ...)``."""
    cleaned = " ".join(_MENTION.sub(" ", text or "").split())
    lowered = cleaned.lower()
    for name in _TWO_WORD:
        if lowered == name or lowered.startswith(name + " "):
            return Command(name, cleaned[len(name) :].strip())
    head, _, rest = cleaned.partition(" ")
    return Command(head.lower(), rest.strip())
