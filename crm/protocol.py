"""The seam every CRM module implements.

An adapter speaks one CRM's API and nothing else: it takes and returns the models in
``crm.models``, raises only ``crm.errors.CrmError`` subclasses (translating vendor statuses
and httpx errors at its own edge), and gets its ``httpx.AsyncClient`` from its constructor
so tests can point it at a local simulator.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from .errors import CrmError, CrmNotFoundError
from .models import (
    CrmRecord,
    CrmSystem,
    FieldInfo,
    FieldValue,
    IdSearch,
    RecordType,
    RecordWrite,
    SearchQuery,
    TimelineActivity,
    TimelineRef,
)

__all__ = [
    "BatchWriting",
    "CrmAdapter",
    "WriteOutcome",
    "missing_caller_types",
    "search_by_id",
    "search_each",
]

log = logging.getLogger(__name__)

# one write's outcome in a batch: the activity's reference (None: no activity), or its error
WriteOutcome = TimelineRef | None | CrmError


@runtime_checkable
class CrmAdapter(Protocol):
    """What the service needs from a CRM."""

    @property
    def system(self) -> CrmSystem:
        """Type, label and base URL of this CRM, for results and links."""
        ...

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        """Records matching the query, at most ``query.limit``. Never matches more than asked:
        every value is escaped for the CRM's query language. Phone searches try every phone
        field of the record types, with the number in E.164 and national form."""
        ...

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        """One record; ``CrmNotFoundError`` when it does not exist."""
        ...

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """Records related to ``record``: same account or household, open cases, ..."""
        ...

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        """Create a record (standard or custom type) and return it as stored."""
        ...

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        """Change fields of a record and return it as stored."""
        ...

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """Link an activity to a record, at most once per ``activity.key``."""
        ...

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """A memorialization job's writes to one record: the field values, then the timeline
        activity (at most once per key), in as few requests as the vendor's API allows (one
        composite or batch request where it has one). Looks the activity's key up first only
        when ``write.activity_may_exist``. Returns the activity's reference (``None`` when
        ``write.activity`` is ``None``)."""
        ...

    async def list_record_types(self) -> list[RecordType]:
        """Record types an agent or admin may use (standard and custom)."""
        ...

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        """Fields of a record type with types and maximum lengths."""
        ...

    def record_url(self, record_type: str, record_id: str) -> str:
        """Deep link that opens the record in the CRM's own UI."""
        ...

    async def check(self) -> list[str]:
        """Prove credentials and reach (mint a token, read metadata); raise a CrmError if not.
        Returns warnings for the admin (English): what works, but not as configured (a
        caller record type the CRM lacks, a property the timeline needs); empty when none."""
        ...

    async def aclose(self) -> None:
        """Release connections and background token refreshers."""
        ...


@runtime_checkable
class BatchWriting(Protocol):
    """An adapter whose CRM takes several records' writes in one request (HubSpot's batch
    endpoints): the memorialization worker then sends the jobs that queue for one
    configuration together (``crm.record_write.batch_limit``)."""

    @property
    def write_batch_limit(self) -> int:
        """The most writes one ``write_records`` call takes."""
        ...

    async def write_records(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """``write_record`` for each write, in the vendor's fewest requests: one outcome per
        write, in order, a ``CrmError`` for a write the CRM refused. Raises a ``CrmError``
        when the whole request failed (throttled, unavailable, refused credentials)."""
        ...


async def search_by_id(adapter: CrmAdapter, query: IdSearch) -> list[CrmRecord]:
    """An ``IdSearch`` answered with ``get``: the record, or no record when it is unknown."""
    try:
        return [await adapter.get(query.record_type, query.id.strip())]
    except CrmNotFoundError:
        return []


async def missing_caller_types(
    setting: str, record_types: Iterable[str], probe: Callable[[str], Awaitable[object]]
) -> list[str]:
    """The configuration test's warnings for caller record types the CRM lacks: ``probe``
    reads a type's metadata and raises ``CrmNotFoundError`` when there is no such type."""
    warnings = []
    for record_type in record_types:
        try:
            await probe(record_type)
        except CrmNotFoundError:
            warnings.append(
                f"{setting}: the CRM has no record type '{record_type}'; caller searches skip it."
            )
    return warnings


async def search_each(
    record_types: Iterable[str],
    limit: int,
    search: Callable[[str, int], Awaitable[list[CrmRecord]]],
) -> list[CrmRecord]:
    """Up to ``limit`` records, searching one record type after another in the order given;
    ``search(record_type, remaining)`` searches one type. A type the CRM lacks (its search
    raises ``CrmNotFoundError``: no ``lead`` table without the Sales app) is skipped with a
    warning; only when the CRM lacks every type is that an error."""
    found: list[CrmRecord] = []
    missing: list[CrmNotFoundError] = []
    searched = False
    for record_type in record_types:
        remaining = limit - len(found)
        if remaining <= 0:
            break
        try:
            found += await search(record_type, remaining)
        except CrmNotFoundError as exc:
            log.warning("search skips record type %r, which the CRM lacks", record_type)
            missing.append(exc)
            continue
        searched = True
    if missing and not searched:
        raise missing[0]
    return found
