"""Pure: in which order, and whether at all, a platform's events reach the interaction.

Platforms retry and reorder. Each translated event has a stage in an interaction's life
(assignment, update, end, after-call work completed) and a leg (the platform's contact id:
a transfer on Amazon Connect or Twilio Flex starts a new leg). Events wait until their
interaction has started, and an end waits until the card's caller look-up is done (the
CRM is written for the records it pinned); then they are applied in stage order. What a
later stage already superseded is stale and dropped: a repeated assignment of the same
agent, an end or after-call work of a leg that was transferred on, a second end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["STAGES", "Queued", "Progress", "Step", "plan"]

STAGES = {
    "started": 0,
    "transferred": 0,
    "updated": 1,
    "ended": 2,
    "unassigned": 2,
    "dismissed": 2,
    "acw_completed": 3,
}
_ASSIGN = ("started", "transferred")


@dataclass(frozen=True)
class Queued:
    """A pending platform event, as ordering sees it."""

    row_id: int
    type: str
    leg: str
    agent_id: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class Progress:
    """What the interaction already is (its stored state)."""

    state: str
    agent_id: str
    leg: str


@dataclass(frozen=True)
class Step:
    row_id: int
    action: Literal["apply", "stale"]
    type: str  # what to apply: a second assignment becomes "transferred"


def plan(
    progress: Progress | None,
    pending: Sequence[Queued],
    legs: Mapping[str, datetime],
    *,
    searched: bool = True,
) -> list[Step]:
    """The steps for ``pending`` given the interaction's ``progress`` (None: not started),
    the first time each leg was seen and whether the card's look-up is done (``searched``;
    a new interaction's is not). Events not in the result keep waiting."""
    latest = max(legs, key=lambda leg: legs[leg]) if legs else None
    steps: list[Step] = []
    started = progress is not None
    agent = progress.agent_id if progress else None
    leg = progress.leg if progress else None
    stage = STAGES.get(progress.state, 0) if progress else -1
    for event in sorted(pending, key=lambda q: (STAGES[q.type], q.occurred_at, q.row_id)):
        if not started:
            if event.type not in _ASSIGN:
                continue  # waits for its interaction's start
            started, agent, leg, stage, searched = True, event.agent_id, event.leg, 0, False
            steps.append(Step(event.row_id, "apply", "started"))
        elif event.type in _ASSIGN:
            older = leg in legs and event.leg in legs and legs[event.leg] < legs[leg or ""]
            if (event.agent_id, event.leg) == (agent, leg) or older:
                steps.append(Step(event.row_id, "stale", event.type))
            else:
                agent, leg, stage = event.agent_id, event.leg, 0
                steps.append(Step(event.row_id, "apply", "transferred"))
        elif event.type == "updated":
            steps.append(Step(event.row_id, "apply", "updated"))
        elif (latest is not None and event.leg != latest) or stage >= STAGES[event.type]:
            steps.append(Step(event.row_id, "stale", event.type))
        elif not searched:
            continue  # waits for the look-up's pins
        else:
            stage = STAGES[event.type]
            steps.append(Step(event.row_id, "apply", event.type))
    return steps
