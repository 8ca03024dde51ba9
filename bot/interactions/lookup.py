"""The caller look-up: a configuration's start-up steps run once per interaction (default:
look the caller up and pin a single match; several matches are listed in Related), and
the records related to a single match, fetched after the first card."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from cards.view import Notice
from crm.errors import AppError, CrmError
from crm.models import CrmRecord
from crm.startup import RelatedStep, StartupResult, run_startup

from ..crm_directory import CrmDirectory
from ..storage.tables import InteractionRecordRow, InteractionRow
from . import store
from .cardview import CardState
from .changes import InteractionChanges
from .crm_access import CrmAccess
from .data import interaction_data

__all__ = ["CallerLookup", "LookupOutcome"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LookupOutcome:
    """The interaction and its records as the look-up committed them (history empty: the
    caller has it); ``related_of``: the single match whose related records to fetch."""

    state: CardState
    related_of: CrmRecord | None


class CallerLookup:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        crm: CrmAccess,
        directory: CrmDirectory,
        changes: InteractionChanges,
    ) -> None:
        self._sessions = sessions
        self._crm = crm
        self._directory = directory
        self._changes = changes

    async def run(self, row: InteractionRow) -> LookupOutcome | None:
        """Run the start-up steps for ``row`` (as just read) unless they ran before; None
        then, or when another look-up wrote first."""
        if row.match_outcome != "unsearched":
            return None
        result, steps, error = await self._search(row)
        outcome = "none" if error is not None else "one" if result.current else result.outcome
        async with self._changes.lock(row.id):
            async with self._sessions() as session, session.begin():
                if not await store.claim_lookup(session, row.id, outcome):
                    return None  # gone, or another look-up wrote first
                records = await store.records_of(session, row.id)
                if error is None:
                    await _add_found(session, row.id, result, records)
            self._changes.committed(row.id)
        if error is not None:
            self._changes.note(row.id, Notice(level="error", key=error.code))
        set_committed_value(row, "match_outcome", outcome)
        single = len(result.current) == 1 and not any(isinstance(s, RelatedStep) for s in steps)
        return LookupOutcome(CardState(row, records, ()), result.current[0] if single else None)

    async def _search(
        self, row: InteractionRow
    ) -> tuple[StartupResult, Sequence[Any], AppError | None]:
        steps: Sequence[Any] = ()
        try:
            adapter = await self._crm.adapter(row.configuration_id)
            steps = await self._directory.startup_steps(row.configuration_id)
            # The record types (for Create) load alongside the search, not after it.
            found: StartupResult | BaseException
            found, _ = await asyncio.gather(
                self._crm.call(run_startup(steps, adapter, interaction_data(row))),
                self._crm.call(self._crm.catalog.record_types(row.configuration_id)),
                return_exceptions=True,
            )
            if isinstance(found, BaseException):
                raise found
            return found, steps, None
        except CrmError as exc:
            log.warning("Caller look-up for %s failed: %s", row.id, exc.code)
            return StartupResult(), steps, exc

    async def add_related(
        self, interaction_id: str, config_id: str, record: CrmRecord
    ) -> list[InteractionRecordRow]:
        """Add the records related to ``record`` to Related; the interaction's records as
        that write committed them (``records_of`` order: what a card is drawn from, without
        reading them again); an empty list when the CRM had none (or failed)."""
        try:
            adapter = await self._crm.adapter(config_id)
            related = await self._crm.call(adapter.related(record, limit=10))
        except CrmError as exc:
            log.info("Related records for %s unavailable: %s", interaction_id, exc.code)
            return []
        if not related:
            return []
        await self._fetch_metadata(config_id, {record.type, *(r.type for r in related)})
        async with self._changes.lock(interaction_id):
            async with self._sessions() as session, session.begin():
                records = await store.records_of(session, interaction_id)
                await store.add_records(
                    session, interaction_id, "related", "related", related, rows=records
                )
        return records

    async def _fetch_metadata(self, config_id: str, types: set[str]) -> None:
        """The types' field metadata, before the card that shows them is drawn (the first
        card never waits for it): field choice and labels in the agent's language."""
        catalog = self._crm.catalog
        results = await asyncio.gather(
            *(self._crm.call(catalog.fields(config_id, t)) for t in sorted(types)),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, CrmError):  # the card then labels fields from their names
                log.info("CRM metadata for %s unavailable: %s", config_id, result.code)
            elif isinstance(result, BaseException):
                raise result


async def _add_found(
    session: AsyncSession,
    interaction_id: str,
    result: StartupResult,
    records: list[InteractionRecordRow],
) -> None:
    origin = "created" if result.created else "match"
    new: list[InteractionRecordRow] = []
    await store.add_records(
        session, interaction_id, "current", origin, result.current, rows=records, pending=new
    )
    # a pinned match stays listed in Related, so unpinning keeps it at hand
    await store.add_records(
        session,
        interaction_id,
        "related",
        "match",
        [*result.current, *result.related],
        rows=records,
        pending=new,
    )
    await store.insert_records(session, new)
