"""Memorialization run by a script's DataMemorialization workflow
(``POST /api/v1/workflows/execute``): mapped and written at once, answering what was written.

It shares the mapping function with the durable writer; the durable path (event hook,
outbox, worker) is what runs on its own at the end of each interaction.
"""

from __future__ import annotations

from typing import Any

from crm.interaction_data import InteractionData
from crm.mappings import MemorializationMapping
from crm.models import CrmRecord
from crm.protocol import CrmAdapter
from crm.workflows import Memorializer

from .snapshot import InteractionSnapshot
from .values import map_fields

__all__ = ["direct_memorializer"]


def _snapshot(
    interaction: InteractionData | None, configuration_id: str, ended_by: str | None
) -> InteractionSnapshot:
    interaction = interaction or InteractionData()
    return InteractionSnapshot(
        interaction_id=interaction.interaction_id or interaction.contact_id or "workflow",
        configuration_id=configuration_id,
        channel=interaction.channel,
        trigger="workflow",
        ended_by=ended_by,
        data=dict(interaction.data),
        script_variables=dict(interaction.script_variables),
    )


def direct_memorializer(
    adapter: CrmAdapter,
    interaction: InteractionData | None,
    configuration_id: str,
    *,
    ended_by: str | None = None,
) -> Memorializer:
    """A ``crm.workflows.Memorializer`` writing ``interaction``'s mapped values through
    ``adapter``; CRM errors propagate to the workflow's caller. ``ended_by="contact"``
    holds back Status, Disposition and Tags, as at the end of an interaction."""
    snapshot = _snapshot(interaction, configuration_id, ended_by)

    async def memorialize(record: CrmRecord, mapping: MemorializationMapping) -> dict[str, Any]:
        fields = await adapter.list_fields(record.type)
        mapped = map_fields(snapshot, mapping.rules_for(record.type), fields)
        if mapped.values:
            await adapter.update(record.type, record.id, mapped.values)
        result = mapped.result()
        return {"written": result.pop("fields"), **result}

    return memorialize
