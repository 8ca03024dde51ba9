"""What workflows and start-up steps see of a stored interaction."""

from __future__ import annotations

from typing import Any

from crm.interaction_data import InteractionData

from ..storage.tables import InteractionRow

__all__ = ["interaction_data"]


def interaction_data(row: InteractionRow) -> InteractionData:
    """What workflows see of a stored interaction (platform fields by admin-visible name)."""
    data: dict[str, Any] = dict(row.data or {})
    known = {key.lower() for key in data}

    def default(name: str, value: object) -> None:
        if value not in (None, "") and name.lower() not in known:
            data[name] = value

    if row.channel == "voice":
        default("ANI", row.customer)
    else:
        default("From", row.customer)
    default("Contact ID", row.contact_id)
    default("Master Contact ID", row.master_contact_id)
    default("Agent ID", row.agent_id)
    default("Agent Name", row.agent_name)
    default("Skill Name", row.skill)
    default("Status", row.state)
    default("Start Time", row.started_at.isoformat() if row.started_at else None)
    default("End Time", row.ended_at.isoformat() if row.ended_at else None)
    return InteractionData(
        interaction_id=row.id,
        contact_id=row.contact_id or None,
        channel="digital" if row.channel == "digital" else "voice",
        data=data,
        script_variables={k: str(v) for k, v in (row.script_variables or {}).items()},
    )
