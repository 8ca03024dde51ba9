"""What a card is drawn from (read in the caller's session) and the view of it, with the
CRM metadata and mapping it needs (``cards.build_customer_card`` draws the card)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cards.view import CustomerCardView, TypeChoice

from ..crm_directory import CrmDirectory
from ..memorialization.job_admin import failed_for_interaction
from ..storage.tables import InteractionRecordRow, InteractionRow
from . import store
from .cardview import CardContext, CardState, Perspective, build_view
from .crm_access import CrmAccess

__all__ = ["CardViews", "has_universal_actions"]


class CardViews:
    def __init__(self, crm: CrmAccess, directory: CrmDirectory) -> None:
        self._crm = crm
        self._directory = directory

    async def state(
        self,
        session: AsyncSession,
        row: InteractionRow,
        records: Sequence[InteractionRecordRow] | None = None,
    ) -> CardState:
        """The interaction's records (unless given, as just read in ``session``), history
        and whether a CRM write of it failed, read in ``session``."""
        if records is None:
            records = await store.records_of(session, row.id)
        failed = row.memorialization_queued and bool(await failed_for_interaction(session, row.id))
        return CardState(
            row, records, await store.history_of(session, row), memorialization_failed=failed
        )

    async def view(self, state: CardState, perspective: Perspective) -> CustomerCardView:
        """The card's view of ``state`` as ``perspective`` sees it."""
        return build_view(state.row, await self._context(state, perspective.locale), perspective)

    async def _context(self, state: CardState, locale: str) -> CardContext:
        row, records = state.row, state.records
        config = row.configuration_id
        catalog = self._crm.catalog
        types = catalog.cached_types(config) or []
        type_names = {r.record_type for r in records}
        mapping = await self._directory.card_mapping(config)
        return CardContext(
            records=records,
            history=state.history,
            memorialization_failed=state.memorialization_failed,
            crm_label=self._crm.labels.get(config, ""),
            type_labels={t.name: t.label_in(locale) for t in types},
            create_types=[
                TypeChoice(name=t.name, label=t.label_in(locale)) for t in types if t.createable
            ],
            field_meta={
                name: meta
                for name in type_names
                if (meta := catalog.cached_fields(config, name)) is not None
            },
            card_fields={name: mapping.fields_for(name) for name in type_names}
            if mapping is not None
            else {},
        )


def has_universal_actions(reference: dict[str, Any]) -> bool:
    """Whether the chat of this conversation reference sends ``Action.Execute``: the Bot
    Framework Emulator draws such buttons but never sends them."""
    return reference.get("channelId") != "emulator"
