"""When an interaction is written to the CRM, and what is held back: pure rules."""

from __future__ import annotations

from crm.mappings import CONTACT_ENDED_EXCLUDED

__all__ = ["DIGITAL_TRIGGERS", "memorialization_due", "excluded_sources"]

# A digital interaction is memorialized each time the agent lets go of it.
DIGITAL_TRIGGERS = frozenset({"transferred", "unassigned", "dismissed"})


def memorialization_due(event_type: str, channel: str, *, has_acw: bool) -> bool:
    """Whether ``event_type`` triggers memorialization.

    Voice: when the agent completes after-call work, or, for an interaction without
    after-call work, when it ends. Digital: on transfer, unassign or dismiss.
    """
    if channel == "voice":
        return event_type == "acw_completed" or (event_type == "ended" and not has_acw)
    if channel == "digital":
        return event_type in DIGITAL_TRIGGERS
    return False


def excluded_sources(ended_by: str | None) -> frozenset[str]:
    """Platform fields not written: when the contact ended the interaction first, its
    Status, Disposition Name, Disposition Notes and Tags are not the agent's final word."""
    return CONTACT_ENDED_EXCLUDED if ended_by == "contact" else frozenset()
