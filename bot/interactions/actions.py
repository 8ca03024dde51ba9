"""What an agent does from the card: pin, unpin, search, more, refresh; and records a
workflow adds. Each answers with the card's view as the agent now sees it (data: the Teams
handler draws the card); anyone but the assigned agent gets a read-only view and nothing
changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.view import CustomerCardView, Notice, RecordView
from crm.errors import CrmError
from crm.models import CrmRecord, EmailSearch, PhoneSearch, TextSearch

from ..crm_directory import CrmDirectory
from ..storage.tables import InteractionRecordRow, InteractionRow
from . import store
from .access import Actor, read_only_reason
from .cardview import Perspective
from .changes import InteractionChanges
from .crm_access import CrmAccess
from .delivery import CardDelivery
from .records import record_view
from .views import CardViews, has_universal_actions

__all__ = ["AgentActions", "CardAnswer", "StoredCard", "text_query", "SEARCH_LIMIT"]

# A change an agent makes from the card: runs in the action's transaction with the
# interaction's record rows (kept up to date), returns a notice for the card or None.
Mutation = Callable[
    [AsyncSession, InteractionRow, list[InteractionRecordRow]], Awaitable[Notice | None]
]
SEARCH_LIMIT = 25


@dataclass(frozen=True)
class StoredCard:
    """The interaction's card message shows the answer's card (after change ``change``):
    the card drawn for the answer is to be PUT there as it is."""

    reference: dict[str, Any]
    activity_id: str
    change: int


@dataclass(frozen=True)
class CardAnswer:
    """The card an action answers with, as data: its view, whether the agent's host sends
    ``Action.Execute``, and (``stored``) where the same card is to be PUT."""

    view: CustomerCardView
    universal_actions: bool = True
    stored: StoredCard | None = None


class AgentActions:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        directory: CrmDirectory,
        crm: CrmAccess,
        changes: InteractionChanges,
        views: CardViews,
        delivery: CardDelivery,
    ) -> None:
        self._sessions = sessions
        self._directory = directory
        self._crm = crm
        self._changes = changes
        self._views = views
        self._delivery = delivery

    async def refresh(self, interaction_id: str, actor: Actor) -> CardAnswer:
        return await self._act(interaction_id, actor, None)

    async def pin(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> CardAnswer:
        """Pin a record to Current."""

        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            known = next(
                (r for r in records if r.record_type == record_type and r.record_id == record_id),
                None,
            )
            if known is not None:
                record = store.record_from_row(known)
            else:
                adapter = await self._crm.adapter(row.configuration_id)
                record = await self._crm.call(adapter.get(record_type, record_id))
            await store.add_records(session, row.id, "current", "pinned", [record], rows=records)
            return None

        return await self._act(interaction_id, actor, mutate)

    async def unpin(
        self, interaction_id: str, actor: Actor, record_type: str, record_id: str
    ) -> CardAnswer:
        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            await store.remove_record(
                session, row.id, "current", record_type, record_id, rows=records
            )
            return None

        return await self._act(interaction_id, actor, mutate)

    async def search(self, interaction_id: str, actor: Actor, text: str) -> CardAnswer:
        """Search the CRM; results replace the last search's in Related."""
        text = text.strip()[:200]

        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            if not text:
                return Notice(level="warning", key="invalid_input")
            adapter = await self._crm.adapter(row.configuration_id)
            found = await self._crm.call(adapter.search(text_query(text)))
            await store.replace_related(session, row.id, "search", rows=records)
            await store.add_records(session, row.id, "related", "search", found, rows=records)
            row.search_query = text
            return None if found else Notice(level="info", key="search_no_results")

        return await self._act(interaction_id, actor, mutate)

    async def more(self, interaction_id: str, actor: Actor) -> CardAnswer:
        async def mutate(
            session: AsyncSession, row: InteractionRow, records: list[InteractionRecordRow]
        ) -> Notice | None:
            row.related_shown += 1
            return None

        return await self._act(interaction_id, actor, mutate)

    async def show_records(
        self,
        interaction_id: str,
        *,
        current: Sequence[CrmRecord] = (),
        related: Sequence[CrmRecord] = (),
    ) -> None:
        """Add records to Current and/or Related (workflow results) and update the card."""
        async with self.changing(interaction_id) as session:
            await store.interaction_or_404(session, interaction_id, field="interactionId")
            records = await store.records_of(session, interaction_id)
            if current:
                await store.add_records(
                    session, interaction_id, "current", "pinned", current, rows=records
                )
            if related:
                await store.add_records(
                    session, interaction_id, "related", "related", related, rows=records
                )

    async def search_records(
        self, text: str, locale: str, configuration_id: str | None = None, limit: int = 10
    ) -> list[RecordView]:
        """A CRM search outside any interaction (message extension, ``search`` command),
        as record views labelled in ``locale`` where the CRM's metadata is cached."""
        config_id = await self._directory.resolve_id(configuration_id)
        adapter = await self._crm.adapter(config_id)
        query = text_query(text.strip()[:200])
        query.limit = limit
        found: list[CrmRecord] = await self._crm.call(adapter.search(query))
        catalog = self._crm.catalog
        types = {t.name: t.label_in(locale) for t in catalog.cached_types(config_id) or []}
        return [
            record_view(
                record,
                origin="search",
                locale=locale,
                type_label=types.get(record.type, ""),
                meta=catalog.cached_fields(config_id, record.type),
            )
            for record in found
        ]

    @contextlib.asynccontextmanager
    async def changing(self, interaction_id: str) -> AsyncIterator[AsyncSession]:
        """A transaction that changes what the interaction's card shows, under the
        interaction's lock; once it is committed the posted card is brought up to date
        (``schedule`` counts the change)."""
        async with self._changes.lock(interaction_id):
            async with self._sessions() as session, session.begin():
                yield session
        self._delivery.schedule(interaction_id)

    async def _act(self, interaction_id: str, actor: Actor, mutate: Mutation | None) -> CardAnswer:
        """Run ``mutate`` for the assigned agent and answer with the card as they now see it;
        anyone else gets a read-only view and nothing changes."""
        notice: Notice | None = None
        async with self._changes.lock(interaction_id):
            async with self._sessions() as session, session.begin():
                row, installation = await store.interaction_and_installation(
                    session, interaction_id
                )
                reason = read_only_reason(row, installation, actor)
                records = await store.records_of(session, row.id)
                if not reason and mutate is not None:
                    try:
                        notice = await mutate(session, row, records)
                    except CrmError as exc:
                        notice = Notice(level="error", key=exc.code)
                # read in the same transaction, after any change: the answer needs no
                # second session
                state = await self._views.state(session, row, records)
            changed = self._changes.committed(interaction_id) if mutate is not None else 0
        if reason:
            perspective = Perspective(
                locale=actor.locale,
                read_only_reason=reason,
                notices=(Notice(level="warning", key=reason),),
            )
            return CardAnswer(await self._views.view(state, perspective))
        assert installation is not None  # not read-only: the actor is its agent
        universal = has_universal_actions(installation.reference)
        perspective = Perspective(
            locale=actor.locale,
            refresh_user_id=actor.teams_user_id,
            notices=(notice,) if notice else (),
            universal_actions=universal,
        )
        view = await self._views.view(state, perspective)
        stored: StoredCard | None = None
        if mutate is not None:
            # The stored message shows the same card when the agent's view of it is the
            # one just drawn: then that card is PUT as it is, not read and drawn again.
            if (
                notice is None
                and row.card_activity_id is not None
                and (installation.locale or row.locale) == actor.locale
                and self._changes.note_of(interaction_id) is None
            ):
                stored = StoredCard(installation.reference, row.card_activity_id, changed)
            else:
                self._delivery.schedule(interaction_id)
        return CardAnswer(view, universal, stored)


def text_query(text: str) -> TextSearch | EmailSearch | PhoneSearch:
    """Free text from an agent: an address searches email, a number searches phones."""
    if "@" in text and " " not in text:
        return EmailSearch(email=text, limit=SEARCH_LIMIT)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 5 and all(ch.isdigit() or ch in "+-() /." for ch in text):
        return PhoneSearch(number=text, limit=SEARCH_LIMIT)
    return TextSearch(text=text, limit=SEARCH_LIMIT)
