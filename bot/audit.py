"""The audit trail: who changed what, when.

Every change to the integration model (configurations, mappings, workflows, start-up
steps) and every retried CRM write is one row, written in the same transaction as the
change by the service that makes it, whichever way in was used: the admin API, the
console or ``customer-card config apply``. The way in says who acts with
:func:`acting_as`; rows name attributes that changed, never values (no secret lands here).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .storage.admin_tables import AuditRow

__all__ = [
    "AuditEvent",
    "acting_as",
    "changed_keys",
    "current_actor",
    "key_actor",
    "list_events",
    "record",
]

_ACTOR: ContextVar[str] = ContextVar("audit_actor", default="system")


def current_actor() -> str:
    return _ACTOR.get()


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Changes made inside are recorded as ``actor``'s."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def key_actor(key: str) -> str:
    """An API key as an actor: a short fingerprint (SHA-256), never the key itself."""
    return "api key " + hashlib.sha256(key.encode()).hexdigest()[:8]


class AuditEvent(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: int
    at: datetime
    actor: str
    action: str
    configuration_id: str | None = None
    target: str = ""
    summary: str = ""
    changes: list[str] = []


def record(
    session: AsyncSession,
    action: str,
    *,
    configuration_id: str | None,
    target: str = "",
    summary: str = "",
    changes: Iterable[str] = (),
) -> None:
    """Add one audit row to ``session`` (it commits with the change it describes)."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            actor=current_actor(),
            action=action,
            configuration_id=configuration_id,
            target=target,
            summary=summary[:500],
            changes=sorted(set(changes)),
        )
    )


def changed_keys(prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``prefix.name`` (``name`` without a prefix) for each key whose value differs between
    ``old`` and ``new``: the names an audit row lists (values never leave the caller)."""
    return [
        f"{prefix}.{name}" if prefix else name
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite: naive


async def list_events(
    session: AsyncSession,
    *,
    configuration_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    target: str | None = None,
    action_prefix: str | None = None,
) -> list[AuditEvent]:
    """Newest first; ``target`` and ``action_prefix`` (``connector.``) narrow it down."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if configuration_id is not None:
        query = query.where(AuditRow.configuration_id == configuration_id)
    if target is not None:
        query = query.where(AuditRow.target == target)
    if action_prefix is not None:
        query = query.where(AuditRow.action.startswith(action_prefix, autoescape=True))
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    rows = (await session.execute(query)).scalars().all()
    return [
        AuditEvent(
            id=row.id,
            at=_utc(row.at),
            actor=row.actor,
            action=row.action,
            configuration_id=row.configuration_id,
            target=row.target,
            summary=row.summary,
            changes=list(row.changes or []),
        )
        for row in rows
    ]
