"""The outbox: memorialization jobs in the service's database.

``enqueue`` runs inside the caller's transaction (the one that stores the triggering event),
so a job exists exactly when its event does. Workers take jobs through ``leases`` (claim,
renew, record each ``jobs.Outcome``); admins list and retry them through ``job_admin``.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.mappings import MemorializationMapping

from ..storage.job_tables import MemorializationJobRow
from .snapshot import InteractionSnapshot, TargetRecord

__all__ = ["enqueue"]


def _keys(snapshot: InteractionSnapshot, target: TargetRecord) -> tuple[str, str]:
    """(dedupe key, timeline idempotency key) for one target of one trigger.

    A voice interaction gets one activity per record whatever triggered it (a call that
    ended and then also completed after-call work rewrites its fields, but is still one
    call on the timeline); a digital interaction gets one per hand-off (``occurrence``)."""
    record = (snapshot.configuration_id, target.record_type.lower(), target.record_id)
    occurrence = (snapshot.trigger, snapshot.occurrence)
    dedupe = hashlib.sha256(
        "\x1f".join((snapshot.interaction_id, *occurrence, *record)).encode()
    ).hexdigest()
    timeline_parts = (
        snapshot.interaction_id,
        snapshot.channel,
        *record,
        *(occurrence if snapshot.channel == "digital" else ()),
    )
    timeline = hashlib.sha256("\x1f".join(timeline_parts).encode()).hexdigest()
    return dedupe, f"cc:{snapshot.interaction_id}:{timeline[:16]}"


def _unique_targets(targets: list[TargetRecord]) -> list[TargetRecord]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for target in targets:
        key = (target.record_type.lower(), target.record_id)
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


async def enqueue(
    session: AsyncSession,
    snapshot: InteractionSnapshot,
    mapping: MemorializationMapping | None,
    *,
    now: float | None = None,
) -> list[MemorializationJobRow]:
    """Queue one job per target record (its mapped field values and its timeline activity)
    in the caller's transaction. Queuing the same trigger again adds nothing."""
    targets = _unique_targets(snapshot.targets)
    if not targets:
        return []
    keyed = [(target, *_keys(snapshot, target)) for target in targets]
    existing = set(
        (
            await session.execute(
                select(MemorializationJobRow.dedupe_key).where(
                    MemorializationJobRow.dedupe_key.in_([dedupe for _, dedupe, _ in keyed])
                )
            )
        ).scalars()
    )
    snapshot_json = snapshot.model_dump(mode="json", by_alias=True)
    at = time.time() if now is None else now
    rows = []
    for target, dedupe, timeline_key in keyed:
        if dedupe in existing:
            continue
        rules = mapping.rules_for(target.record_type) if mapping else []
        rows.append(
            MemorializationJobRow(
                dedupe_key=dedupe,
                timeline_key=timeline_key,
                interaction_id=snapshot.interaction_id,
                configuration_id=snapshot.configuration_id,
                record_type=target.record_type,
                record_id=target.record_id,
                trigger=snapshot.trigger,
                status="pending",
                attempts=0,
                available_at=at,
                payload={
                    "snapshot": snapshot_json,
                    "mappingId": mapping.id if mapping else None,
                    "rules": [rule.model_dump(mode="json", by_alias=True) for rule in rules],
                },
                result={},
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows
