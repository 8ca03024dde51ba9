"""Database access for interactions, their records and events, and installations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.errors import NotFoundError
from crm.models import CrmRecord

from ..storage.tables import (
    InstallationRow,
    InteractionEventRow,
    InteractionRecordRow,
    InteractionRow,
)

__all__ = [
    "interaction_or_404",
    "find_installation",
    "installation_by_user",
    "event_seen",
    "records_of",
    "add_records",
    "remove_record",
    "replace_related",
    "history_of",
    "active_interaction_of",
    "pending_for",
    "record_from_row",
]


async def interaction_or_404(session: AsyncSession, interaction_id: str, *,
                             field: str | None = None) -> InteractionRow:
    """The interaction, or ``NotFoundError`` (``unknown_interaction``) naming ``field``."""
    row = await session.get(InteractionRow, interaction_id)
    if row is None:
        raise NotFoundError(f"Unknown interaction {interaction_id}",
                            code="unknown_interaction", field=field)
    return row


async def find_installation(
    session: AsyncSession, *, aad_object_id: str | None, email: str | None,
    teams_user_id: str | None,
) -> InstallationRow | None:
    """The agent's installation: by AAD object id, then email/UPN, then Teams user id."""
    if aad_object_id:
        row = (await session.execute(select(InstallationRow).where(
            InstallationRow.aad_object_id == aad_object_id))).scalars().first()
        if row is not None:
            return row
    if email:
        address = email.strip().lower()
        row = (await session.execute(select(InstallationRow).where(or_(
            InstallationRow.email == address, InstallationRow.upn == address
        )))).scalars().first()
        if row is not None:
            return row
    if teams_user_id:
        return await installation_by_user(session, teams_user_id)
    return None


async def installation_by_user(session: AsyncSession, teams_user_id: str) -> InstallationRow | None:
    return (await session.execute(select(InstallationRow).where(
        InstallationRow.teams_user_id == teams_user_id))).scalars().first()


async def event_seen(session: AsyncSession, event_id: str) -> bool:
    found = await session.execute(
        select(InteractionEventRow.id).where(InteractionEventRow.event_id == event_id))
    return found.first() is not None


async def records_of(session: AsyncSession, interaction_id: str) -> list[InteractionRecordRow]:
    return list((await session.execute(
        select(InteractionRecordRow)
        .where(InteractionRecordRow.interaction_id == interaction_id)
        .order_by(InteractionRecordRow.position, InteractionRecordRow.id)
    )).scalars())


def _snapshot(record: CrmRecord) -> dict[str, Any]:
    return {"fields": record.model_dump(mode="json")["fields"],
            "parent_ids": dict(record.parent_ids)}


async def add_records(
    session: AsyncSession, interaction_id: str, section: str, origin: str,
    records: Sequence[CrmRecord], *, rows: list[InteractionRecordRow] | None = None,
) -> int:
    """Add records to a section (skipping ones already there); returns how many were added.

    ``rows``: every record row of the interaction as read in this session (``records_of``)
    and kept up to date by the caller; saves reading them again. New rows are appended to
    it, so it stays in ``records_of`` order."""
    if rows is None:
        rows = await records_of(session, interaction_id)
    existing = {(r.section, r.record_type, r.record_id): r for r in rows}
    # places are numbered across sections: the next one follows the highest in use
    position = max((r.position for r in rows), default=0)
    added = 0
    for record in records:
        row = existing.get((section, record.type, record.id))
        if row is not None:  # refresh the snapshot, keep the place
            row.title, row.url, row.fields = record.title, record.url, _snapshot(record)
            continue
        position += 1
        row = InteractionRecordRow(
            interaction_id=interaction_id, section=section, origin=origin,
            record_type=record.type, record_id=record.id, title=record.title,
            url=record.url, fields=_snapshot(record), position=position,
        )
        session.add(row)
        rows.append(row)
        existing[(section, record.type, record.id)] = row
        added += 1
    return added


async def remove_record(session: AsyncSession, interaction_id: str, section: str,
                        record_type: str, record_id: str) -> bool:
    result = await session.execute(delete(InteractionRecordRow).where(
        InteractionRecordRow.interaction_id == interaction_id,
        InteractionRecordRow.section == section,
        InteractionRecordRow.record_type == record_type,
        InteractionRecordRow.record_id == record_id,
    ))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def replace_related(session: AsyncSession, interaction_id: str, origin: str) -> None:
    """Drop the Related records of one origin (a new search replaces the last one's)."""
    await session.execute(delete(InteractionRecordRow).where(
        InteractionRecordRow.interaction_id == interaction_id,
        InteractionRecordRow.section == "related",
        InteractionRecordRow.origin == origin,
    ))


def record_from_row(row: InteractionRecordRow) -> CrmRecord:
    snapshot = row.fields or {}
    return CrmRecord(type=row.record_type, id=row.record_id, title=row.title, url=row.url,
                     fields=dict(snapshot.get("fields", {})),
                     parent_ids=dict(snapshot.get("parent_ids", {})))


async def history_of(session: AsyncSession, row: InteractionRow,
                     limit: int = 5) -> list[InteractionRow]:
    """Earlier interactions with the same customer, newest first."""
    if not row.customer_key:
        return []
    return list((await session.execute(
        select(InteractionRow)
        .where(InteractionRow.customer_key == row.customer_key, InteractionRow.id != row.id,
               InteractionRow.started_at <= row.started_at)
        .order_by(InteractionRow.started_at.desc()).limit(limit)
    )).scalars())


async def active_interaction_of(session: AsyncSession,
                                installation_id: int) -> InteractionRow | None:
    """The agent's newest interaction that is not closed (for text commands)."""
    return (await session.execute(
        select(InteractionRow)
        .where(InteractionRow.installation_id == installation_id,
               InteractionRow.state.notin_(("acw_completed", "dismissed", "unassigned")))
        .order_by(InteractionRow.started_at.desc()).limit(1)
    )).scalars().first()


async def pending_for(session: AsyncSession, installation: InstallationRow) -> list[InteractionRow]:
    """Interactions waiting for this agent to install the app."""
    identity = [InteractionRow.agent_teams_user_id == installation.teams_user_id]
    if installation.aad_object_id:
        identity.append(InteractionRow.agent_aad_object_id == installation.aad_object_id)
    for address in {installation.email, installation.upn} - {None, ""}:
        identity.append(func.lower(InteractionRow.agent_email) == address)
    return list((await session.execute(
        select(InteractionRow).where(InteractionRow.delivery_pending.is_(True), or_(*identity))
    )).scalars())
