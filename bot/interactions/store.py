"""Database access for interactions, their records and events, and installations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm.errors import NotFoundError
from crm.models import CrmRecord, RecordRef

from ..storage.tables import (
    InstallationRow,
    InteractionRecordRow,
    InteractionRow,
)

__all__ = [
    "interaction_or_404",
    "interaction_and_installation",
    "claim_lookup",
    "find_installation",
    "installation_by_user",
    "unknown_interaction",
    "records_of",
    "add_records",
    "remove_record",
    "replace_related",
    "history_of",
    "active_interaction_of",
    "pending_for",
    "record_from_row",
]


# The statements of the hot path, built once: SQLAlchemy then finds their compiled form by
# a cache key it has already computed, instead of building and hashing a new statement
# per call.
_WITH_INSTALLATION = (
    select(InteractionRow, InstallationRow)
    .outerjoin(InstallationRow, InstallationRow.id == InteractionRow.installation_id)
    .where(InteractionRow.id == bindparam("id"))
)
_CLAIM_LOOKUP = (
    update(InteractionRow)
    .where(
        InteractionRow.id == bindparam("interaction"), InteractionRow.match_outcome == "unsearched"
    )
    .values(match_outcome=bindparam("outcome"))
    .execution_options(synchronize_session=False)
)
_BY_AAD = select(InstallationRow).where(InstallationRow.aad_object_id == bindparam("aad"))
_RECORDS = (
    select(InteractionRecordRow)
    .where(InteractionRecordRow.interaction_id == bindparam("id"))
    .order_by(InteractionRecordRow.position, InteractionRecordRow.id)
)
_HISTORY = (
    select(InteractionRow)
    .where(
        InteractionRow.customer_key == bindparam("key"),
        InteractionRow.id != bindparam("id"),
        InteractionRow.started_at <= bindparam("at"),
    )
    .order_by(InteractionRow.started_at.desc())
    .limit(bindparam("limit"))
)


def unknown_interaction(interaction_id: str, field: str | None = None) -> NotFoundError:
    """The error for an interaction id nobody knows (404 ``unknown_interaction``)."""
    return NotFoundError(
        f"Unknown interaction {interaction_id}", code="unknown_interaction", field=field
    )


async def interaction_or_404(
    session: AsyncSession, interaction_id: str, *, field: str | None = None
) -> InteractionRow:
    """The interaction, or ``NotFoundError`` (``unknown_interaction``) naming ``field``."""
    row = await session.get(InteractionRow, interaction_id)
    if row is None:
        raise unknown_interaction(interaction_id, field)
    return row


async def interaction_and_installation(
    session: AsyncSession,
    interaction_id: str,
    *,
    field: str | None = None,
) -> tuple[InteractionRow, InstallationRow | None]:
    """The interaction and its agent's installation (None while unassigned), in one
    statement; ``NotFoundError`` (``unknown_interaction``) naming ``field``."""
    found = (await session.execute(_WITH_INSTALLATION, {"id": interaction_id})).first()
    if found is None:
        raise unknown_interaction(interaction_id, field)
    return found[0], found[1]


async def claim_lookup(session: AsyncSession, interaction_id: str, outcome: str) -> bool:
    """Record the caller look-up's outcome unless another look-up did (False then): the
    one statement that makes concurrent look-ups of one interaction write once."""
    result = await session.execute(
        _CLAIM_LOOKUP, {"interaction": interaction_id, "outcome": outcome}
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def find_installation(
    session: AsyncSession,
    *,
    aad_object_id: str | None,
    email: str | None,
    teams_user_id: str | None,
) -> InstallationRow | None:
    """The agent's installation: by AAD object id, then email/UPN, then Teams user id."""
    if aad_object_id:
        row = (await session.execute(_BY_AAD, {"aad": aad_object_id})).scalars().first()
        if row is not None:
            return row
    if email:
        address = email.strip().lower()
        row = (
            (
                await session.execute(
                    select(InstallationRow).where(
                        or_(InstallationRow.email == address, InstallationRow.upn == address)
                    )
                )
            )
            .scalars()
            .first()
        )
        if row is not None:
            return row
    if teams_user_id:
        return await installation_by_user(session, teams_user_id)
    return None


async def installation_by_user(session: AsyncSession, teams_user_id: str) -> InstallationRow | None:
    return (
        (
            await session.execute(
                select(InstallationRow).where(InstallationRow.teams_user_id == teams_user_id)
            )
        )
        .scalars()
        .first()
    )


async def records_of(session: AsyncSession, interaction_id: str) -> list[InteractionRecordRow]:
    return list((await session.execute(_RECORDS, {"id": interaction_id})).scalars())


def _snapshot(record: CrmRecord) -> dict[str, Any]:
    # The referenced records' names travel with the record, so a redraw needs no CRM call.
    dumped = record.model_dump(mode="json", include={"fields", "references"})
    snapshot: dict[str, Any] = {"fields": dumped["fields"], "parent_ids": dict(record.parent_ids)}
    if record.references:
        snapshot["references"] = dumped["references"]
    return snapshot


async def add_records(
    session: AsyncSession,
    interaction_id: str,
    section: str,
    origin: str,
    records: Sequence[CrmRecord],
    *,
    rows: list[InteractionRecordRow] | None = None,
    pending: list[InteractionRecordRow] | None = None,
) -> int:
    """Add records to a section (skipping ones already there); returns how many were added.

    ``rows``: every record row of the interaction as read in this session (``records_of``)
    and kept up to date by the caller; saves reading them again. New rows are appended to
    it, so it stays in ``records_of`` order. They are written with one multi-row INSERT and
    are not tracked by the session (their ``id`` stays None); with ``pending`` they are
    appended to it instead, for the caller's ``insert_records``."""
    if rows is None:
        rows = await records_of(session, interaction_id)
    existing = {(r.section, r.record_type, r.record_id): r for r in rows}
    # places are numbered across sections: the next one follows the highest in use
    position = max((r.position for r in rows), default=0)
    added: list[InteractionRecordRow] = []
    now = datetime.now(UTC)
    for record in records:
        row = existing.get((section, record.type, record.id))
        if row is not None:  # refresh the snapshot, keep the place
            row.title, row.url, row.fields = record.title, record.url, _snapshot(record)
            if inspect(row).transient:  # written by this helper, unknown to the session
                await session.execute(
                    update(InteractionRecordRow)
                    .where(*_key(interaction_id, row.section, row.record_type, row.record_id))
                    .values(title=row.title, url=row.url, fields=row.fields)
                    .execution_options(synchronize_session=False)
                )
            continue
        position += 1
        row = InteractionRecordRow(
            interaction_id=interaction_id,
            section=section,
            origin=origin,
            record_type=record.type,
            record_id=record.id,
            title=record.title,
            url=record.url,
            fields=_snapshot(record),
            position=position,
            created_at=now,
        )
        added.append(row)
        rows.append(row)
        existing[(section, record.type, record.id)] = row
    if pending is not None:  # the caller inserts them, with others, in one statement
        pending.extend(added)
    else:
        await insert_records(session, added)
    return len(added)


async def insert_records(session: AsyncSession, rows: Sequence[InteractionRecordRow]) -> None:
    """Insert record rows made by ``add_records(..., pending=...)`` in one statement."""
    if rows:
        await session.execute(
            insert(cast(Table, InteractionRecordRow.__table__)),
            [{column: getattr(row, column) for column in _RECORD_COLUMNS} for row in rows],
        )


_RECORD_COLUMNS = (
    "interaction_id",
    "section",
    "origin",
    "record_type",
    "record_id",
    "title",
    "url",
    "fields",
    "position",
    "created_at",
)


def _key(interaction_id: str, section: str, record_type: str, record_id: str) -> tuple[Any, ...]:
    """The WHERE clause of one record row."""
    return (
        InteractionRecordRow.interaction_id == interaction_id,
        InteractionRecordRow.section == section,
        InteractionRecordRow.record_type == record_type,
        InteractionRecordRow.record_id == record_id,
    )


async def remove_record(
    session: AsyncSession,
    interaction_id: str,
    section: str,
    record_type: str,
    record_id: str,
    *,
    rows: list[InteractionRecordRow] | None = None,
) -> bool:
    """Take a record out of a section; ``rows`` (as for ``add_records``) loses it too."""
    result = await session.execute(
        delete(InteractionRecordRow)
        .where(*_key(interaction_id, section, record_type, record_id))
        .execution_options(synchronize_session=False)
    )
    if rows is not None:
        rows[:] = [
            r
            for r in rows
            if (r.section, r.record_type, r.record_id) != (section, record_type, record_id)
        ]
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def replace_related(
    session: AsyncSession,
    interaction_id: str,
    origin: str,
    *,
    rows: list[InteractionRecordRow] | None = None,
) -> None:
    """Drop the Related records of one origin (a new search replaces the last one's)."""
    await session.execute(
        delete(InteractionRecordRow)
        .where(
            InteractionRecordRow.interaction_id == interaction_id,
            InteractionRecordRow.section == "related",
            InteractionRecordRow.origin == origin,
        )
        .execution_options(synchronize_session=False)
    )
    if rows is not None:
        rows[:] = [r for r in rows if not (r.section == "related" and r.origin == origin)]


def record_from_row(row: InteractionRecordRow) -> CrmRecord:
    snapshot = row.fields or {}
    return CrmRecord(
        type=row.record_type,
        id=row.record_id,
        title=row.title,
        url=row.url,
        fields=dict(snapshot.get("fields", {})),
        parent_ids=dict(snapshot.get("parent_ids", {})),
        references={
            field: RecordRef.model_validate(ref)
            for field, ref in (snapshot.get("references") or {}).items()
        },
    )


async def history_of(
    session: AsyncSession, row: InteractionRow, limit: int = 5
) -> list[InteractionRow]:
    """Earlier interactions with the same customer, newest first."""
    if not row.customer_key:
        return []
    return list(
        (
            await session.execute(
                _HISTORY,
                {
                    "key": row.customer_key,
                    "id": row.id,
                    "at": row.started_at,
                    "limit": limit,
                },
            )
        ).scalars()
    )


async def active_interaction_of(
    session: AsyncSession, installation_id: int
) -> InteractionRow | None:
    """The agent's newest interaction that is not closed (for text commands)."""
    return (
        (
            await session.execute(
                select(InteractionRow)
                .where(
                    InteractionRow.installation_id == installation_id,
                    InteractionRow.state.notin_(("acw_completed", "dismissed", "unassigned")),
                )
                .order_by(InteractionRow.started_at.desc())
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def pending_for(session: AsyncSession, installation: InstallationRow) -> list[InteractionRow]:
    """Interactions waiting for this agent to install the app."""
    identity = [InteractionRow.agent_teams_user_id == installation.teams_user_id]
    if installation.aad_object_id:
        identity.append(InteractionRow.agent_aad_object_id == installation.aad_object_id)
    for address in {installation.email, installation.upn} - {None, ""}:
        identity.append(func.lower(InteractionRow.agent_email) == address)
    return list(
        (
            await session.execute(
                select(InteractionRow).where(
                    InteractionRow.delivery_pending.is_(True), or_(*identity)
                )
            )
        ).scalars()
    )
