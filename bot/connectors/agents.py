"""Pure: the platform's agent as the Teams user the card goes to.

An admin's explicit table (platform agent id -> email/UPN, or an AAD object id) wins;
otherwise the email/UPN the platform itself gives (worker attributes, user profile)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..interactions.events import AgentRef

__all__ = ["mapped_agent"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def mapped_agent(agent: AgentRef, table: Mapping[str, str]) -> AgentRef:
    """``agent`` with its Teams identity from ``table`` when the admin listed it."""
    target = table.get(agent.id)
    if not target:
        return agent
    if _GUID.match(target):
        return agent.model_copy(update={"aad_object_id": target, "email": None})
    return agent.model_copy(update={"email": target.strip().lower()})
