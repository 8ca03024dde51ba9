"""The default configuration: found, or made on the demo CRM when the database has none."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..storage.config_tables import ConfigurationRow, WorkflowRow

__all__ = ["add_default_workflows", "default_row", "find_or_create_default"]

_DEFAULT_LOCK_KEY = 0x43435F44  # pg advisory lock id for creating the default configuration


async def default_row(session: AsyncSession) -> ConfigurationRow | None:
    """The configuration marked default, else any (the first one made, on a young database)."""
    row = (
        (
            await session.execute(
                select(ConfigurationRow).where(ConfigurationRow.is_default.is_(True))
            )
        )
        .scalars()
        .first()
    )
    if row is None:
        row = (await session.execute(select(ConfigurationRow))).scalars().first()
    return row


async def find_or_create_default(session: AsyncSession) -> str:
    """The default configuration's id, created with the demo CRM's default workflows when
    there is none; in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Replicas starting together on an empty database must create one default,
        # not one each: serialize the check-then-insert across processes.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DEFAULT_LOCK_KEY}
        )
    row = await default_row(session)
    if row is None:
        row = await _create_demo_default(session)
    return row.id


async def _create_demo_default(session: AsyncSession) -> ConfigurationRow:
    row = ConfigurationRow(
        id=f"cfg-{uuid.uuid4().hex[:12]}",
        name="Demo CRM",
        description="Built-in demo CRM with sample data",
        type="demo",
        status="active",
        is_default=True,
        settings={},
        secrets={},
    )
    session.add(row)
    await session.flush()
    add_default_workflows(session, row.id, row.type)
    return row


def add_default_workflows(session: AsyncSession, configuration_id: str, type_: str) -> None:
    """A new configuration's ready set of workflows for its integration type (crm.workflows),
    in the caller's transaction (the configuration row flushed first)."""
    # imported here: the workflow defaults import the configuration model
    from crm.workflows import default_workflows

    for position, workflow in enumerate(default_workflows(type_)):
        workflow.id = f"wf-{uuid.uuid4().hex[:12]}"
        session.add(
            WorkflowRow(
                configuration_id=configuration_id,
                id=workflow.id,
                name=workflow.name,
                kind=workflow.kind,
                status=workflow.status,
                position=position,
                spec=workflow.model_dump(mode="json", by_alias=True),
            )
        )
