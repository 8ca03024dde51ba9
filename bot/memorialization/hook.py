"""Glue to the interactions service: the event hook that queues memorialization jobs inside
the transaction storing the triggering event, and the snapshot built from an interaction.

    hook = MemorializationHook(directory.memorialization_mapping, worker=worker)
    services.interactions.event_hooks.append(hook)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.mappings import MemorializationMapping

from ..storage.tables import InteractionRecordRow, InteractionRow
from .outbox import enqueue
from .snapshot import InteractionSnapshot, TargetRecord
from .triggers import memorialization_due

if TYPE_CHECKING:
    from ..interactions.events import StoredEvent
    from .worker import MemorializationWorker

__all__ = ["MemorializationHook", "snapshot_from_interaction", "acw_announced"]

log = logging.getLogger(__name__)

MappingProvider = Callable[[str], Awaitable[MemorializationMapping | None]]
AcwRule = Callable[[InteractionRow, "StoredEvent"], bool]


def acw_announced(row: InteractionRow, event: StoredEvent) -> bool:
    """Whether the platform said the call has after-call work: a true ``ACW`` platform field
    on the event or the interaction. Without it a voice call is memorialized when it ends;
    an ``acw_completed`` that follows writes the final values again, on the same single
    timeline activity."""
    for data in (event.data, row.data or {}):
        value = data.get("ACW")
        if value is not None:
            return value is True or str(value).strip().lower() in ("true", "1", "yes")
    return False


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # SQLite returns naive datetimes; all are UTC


def _direction(data: dict[str, Any]) -> str | None:
    direction = str(data.get("Direction") or "").strip().lower()
    return direction if direction in ("inbound", "outbound") else None


def snapshot_from_interaction(
    row: InteractionRow, event: StoredEvent, targets: Iterable[TargetRecord]
) -> InteractionSnapshot:
    """The interaction as the triggering event left it (``row`` already has the event
    applied)."""
    data = dict(row.data or {})
    # validated: a channel or ended-by value the snapshot does not know is an error here,
    # in the storing transaction, not later in the worker
    return InteractionSnapshot.model_validate(
        {
            "interaction_id": row.id,
            "configuration_id": row.configuration_id,
            "channel": row.channel,
            "trigger": event.type,
            "occurrence": event.event_id,
            "ended_by": row.ended_by or event.ended_by,
            "direction": _direction(data),
            "agent_id": row.agent_id or None,
            "agent_name": row.agent_name or None,
            "started_at": _utc(row.started_at),
            "ended_at": _utc(row.ended_at) or _utc(event.occurred_at),
            "data": data,
            "script_variables": dict(row.script_variables or {}),
            "targets": list(targets),
        }
    )


async def current_records(session: AsyncSession, interaction_id: str) -> list[TargetRecord]:
    """The records in Current Interaction (pinned, created or matched: all linked)."""
    rows = (
        await session.execute(
            select(InteractionRecordRow)
            .where(
                InteractionRecordRow.interaction_id == interaction_id,
                InteractionRecordRow.section == "current",
            )
            .order_by(InteractionRecordRow.position, InteractionRecordRow.id)
        )
    ).scalars()
    return [TargetRecord(record_type=r.record_type, record_id=r.record_id) for r in rows]


class MemorializationHook:
    """``InteractionService.event_hooks`` entry: on a triggering event, one job per record
    in Current Interaction, queued in the event's own transaction."""

    def __init__(
        self,
        mapping_for: MappingProvider,
        *,
        has_acw: AcwRule = acw_announced,
        worker: MemorializationWorker | None = None,
    ) -> None:
        self._mapping_for = mapping_for
        self._has_acw = has_acw
        self._worker = worker

    async def __call__(
        self, session: AsyncSession, row: InteractionRow, event: StoredEvent
    ) -> None:
        if not memorialization_due(event.type, row.channel, has_acw=self._has_acw(row, event)):
            return
        targets = await current_records(session, row.id)
        if not targets:
            return
        mapping = await self._mapping_for(row.configuration_id)
        jobs = await enqueue(session, snapshot_from_interaction(row, event, targets), mapping)
        if jobs:
            row.memorialization_queued = True
        if jobs and self._worker is not None:
            # the jobs are visible once the caller commits: look shortly after
            asyncio.get_running_loop().call_later(0.05, self._worker.notify)
