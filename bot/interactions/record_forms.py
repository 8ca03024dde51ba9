"""The create and edit forms of CRM records, shown from the card (a dialog in Teams): the
form's view, and its submission written through the CRM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.i18n import translate
from cards.view import FormView
from crm.errors import CrmError, InputError
from crm.models import CrmRecord
from crm.protocol import CrmAdapter

from ..crm_directory import CrmDirectory
from ..storage.tables import InteractionRow
from . import store
from .access import Actor, NotAssignedError, read_only_reason
from .actions import AgentActions
from .crm_access import DIALOG_SECONDS, CrmAccess
from .forms import create_fields, edit_fields, form_view_fields, parse_submission
from .records import choose_card_fields

__all__ = ["RecordForms"]


class RecordForms:
    def __init__(
        self,
        *,
        read_sessions: async_sessionmaker[AsyncSession],
        directory: CrmDirectory,
        crm: CrmAccess,
        actions: AgentActions,
    ) -> None:
        self._read_sessions = read_sessions
        self._directory = directory
        self._crm = crm
        self._actions = actions

    async def create_form(
        self,
        interaction_id: str,
        actor: Actor,
        record_type: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        error: str = "",
    ) -> FormView:
        row = await self._assigned_row(interaction_id, actor)
        catalog = self._crm.catalog
        types = {
            t.name: t for t in await self._crm.call(catalog.record_types(row.configuration_id))
        }
        if record_type not in types or not types[record_type].createable:
            raise InputError(f"Cannot create records of type {record_type!r}", field="createType")
        meta = await self._crm.call(catalog.fields(row.configuration_id, record_type))
        fields = create_fields(list(meta.values()))
        return FormView(
            mode="create",
            interaction_id=interaction_id,
            locale=actor.locale,
            record_type=record_type,
            type_label=types[record_type].label_in(actor.locale),
            fields=form_view_fields(fields, values or {}, actor.locale, errors),
            error=error,
        )

    async def submit_create(
        self, interaction_id: str, actor: Actor, record_type: str, submitted: dict[str, Any]
    ) -> FormView | CrmRecord:
        """Create the record and pin it; or the form again with the errors shown."""
        row = await self._assigned_row(interaction_id, actor)
        meta = await self._crm.call(self._crm.catalog.fields(row.configuration_id, record_type))
        fields = create_fields(list(meta.values()))
        values, errors = parse_submission(fields, submitted, _translator(actor.locale))
        if errors:
            return await self.create_form(
                interaction_id, actor, record_type, values=submitted, errors=errors
            )
        adapter = await self._crm.adapter(row.configuration_id)
        try:
            record: CrmRecord = await self._crm.call(
                adapter.create(record_type, values), DIALOG_SECONDS
            )
        except CrmError as exc:
            return await self.create_form(
                interaction_id,
                actor,
                record_type,
                values=submitted,
                error=translate(actor.locale, exc.code),
            )
        async with self._actions.changing(interaction_id) as session:
            await store.add_records(session, interaction_id, "current", "created", [record])
        return record

    async def edit_form(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> FormView:
        row = await self._assigned_row(interaction_id, actor)
        adapter = await self._crm.adapter(row.configuration_id)
        fields, record = await self._edit_fields(row, adapter, record_type, record_id)
        return self._edit_view(row, actor, record_type, record_id, fields, record.fields)

    async def submit_edit(
        self,
        interaction_id: str,
        actor: Actor,
        record_type: str,
        record_id: str,
        submitted: dict[str, Any],
    ) -> FormView | CrmRecord:
        row = await self._assigned_row(interaction_id, actor)
        adapter = await self._crm.adapter(row.configuration_id)
        fields, _ = await self._edit_fields(row, adapter, record_type, record_id)
        values, errors = parse_submission(
            fields, submitted, _translator(actor.locale), clear_empty=True
        )
        if errors:  # the form again, from what was just read
            return self._edit_view(
                row, actor, record_type, record_id, fields, submitted, errors=errors
            )
        try:
            record: CrmRecord = await self._crm.call(
                adapter.update(record_type, record_id, values), DIALOG_SECONDS
            )
        except CrmError as exc:
            return self._edit_view(
                row,
                actor,
                record_type,
                record_id,
                fields,
                submitted,
                error=translate(actor.locale, exc.code),
            )
        async with self._actions.changing(interaction_id) as session:
            await _refresh_snapshot(session, interaction_id, record)
        return record

    def _edit_view(
        self,
        row: InteractionRow,
        actor: Actor,
        record_type: str,
        record_id: str,
        fields: list[Any],
        values: dict[str, Any],
        *,
        errors: dict[str, str] | None = None,
        error: str = "",
    ) -> FormView:
        cached = self._crm.catalog.cached_types(row.configuration_id) or []
        types = {t.name: t.label_in(actor.locale) for t in cached}
        return FormView(
            mode="edit",
            interaction_id=row.id,
            locale=actor.locale,
            record_type=record_type,
            type_label=types.get(record_type, record_type),
            record_id=record_id,
            fields=form_view_fields(fields, values, actor.locale, errors),
            error=error,
        )

    async def _edit_fields(
        self, row: InteractionRow, adapter: CrmAdapter, record_type: str, record_id: str
    ) -> tuple[list[Any], CrmRecord]:
        record = await self._crm.call(adapter.get(record_type, record_id))
        meta = await self._crm.call(self._crm.catalog.fields(row.configuration_id, record_type))
        configured = await self._directory.card_fields(row.configuration_id, record_type)
        # no ``record``: the form keeps the fields the card leaves out as repeats of the
        # title (a contact's first and last name)
        shown = choose_card_fields(record.fields, configured=configured, meta=meta)
        return edit_fields(list(meta.values()), shown), record

    async def _assigned_row(self, interaction_id: str, actor: Actor) -> InteractionRow:
        async with self._read_sessions() as session:
            row, installation = await store.interaction_and_installation(session, interaction_id)
        reason = read_only_reason(row, installation, actor)
        if reason:
            raise NotAssignedError(reason)
        return row


async def _refresh_snapshot(session: AsyncSession, interaction_id: str, record: CrmRecord) -> None:
    """The record's snapshot in every section it is shown in."""
    rows = await store.records_of(session, interaction_id)
    for section in ("current", "related"):
        if any(
            r.section == section and r.record_type == record.type and r.record_id == record.id
            for r in rows
        ):
            await store.add_records(session, interaction_id, section, "pinned", [record], rows=rows)


def _translator(locale: str) -> Callable[..., str]:
    return lambda key, **params: translate(locale, key, **params)
