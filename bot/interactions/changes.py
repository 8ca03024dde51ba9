"""Per-interaction bookkeeping shared by the writers and the card delivery of one process.

One writer per interaction at a time (``lock``); a count of the changes committed in this
process (``committed``), which tells the delivery whether a card an action drew is still
the latest; and the notice the posted card carries (``note``, e.g. the look-up failed).
"""

from __future__ import annotations

import asyncio

from cards.view import Notice

__all__ = ["InteractionChanges"]


class InteractionChanges:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._counts: dict[str, int] = {}
        self._notes: dict[str, Notice] = {}

    def lock(self, interaction_id: str) -> asyncio.Lock:
        return self._locks.setdefault(interaction_id, asyncio.Lock())

    def committed(self, interaction_id: str) -> int:
        """Count a change of the interaction committed in this process; call it while
        holding the interaction's lock, right after the commit. Returns its number."""
        number = self._counts[interaction_id] = self._counts.get(interaction_id, 0) + 1
        return number

    def latest(self, interaction_id: str) -> int | None:
        """The number of the last change counted (None: none since ``forget``)."""
        return self._counts.get(interaction_id)

    def forget(self, interaction_id: str) -> None:
        """The card is up to date: later changes count afresh."""
        self._counts.pop(interaction_id, None)

    def note(self, interaction_id: str, notice: Notice) -> None:
        """A notice for the posted card (e.g. the look-up failed)."""
        self._notes[interaction_id] = notice

    def note_of(self, interaction_id: str) -> Notice | None:
        return self._notes.get(interaction_id)
