"""Oracle B2C Service adapter (Connect REST API, ROQL).

Record types: ``contact`` (the caller), ``organization``, ``incident`` (the case) and
``task``. Auth is Basic with a staff account, or an OAuth client-credentials token from the
site's identity provider (cached and refreshed by ``TokenManager``).

Searches run as ROQL object queries (``GET /contacts?q=...``, paged by ``limit``/``offset``
and the ``next`` link); records are read with one tabular query (``queryResults``) because
object reads leave list attributes (emails, phones, threads) behind links. Every request
carries ``OSvC-CREST-Application-Context``, echoes ``osvc-crest-api-access-token`` and honours
``osvc-crest-next-request-after`` (milliseconds).

A timeline activity on a contact or organization is a task whose comments end in a key
marker; on an incident it is a private thread entry (a note) with the marker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import (
    CrmNotFoundError,
    CrmRejectedError,
    InputError,
)
from ...http import (
    parse_iso_datetime,
)
from ...models import (
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldInfo,
    FieldValue,
    IdSearch,
    PhoneSearch,
    RecordType,
    SearchQuery,
    TextSearch,
)
from ...phone import any_stored_number_matches, digits_only, phone_variants
from ...protocol import search_by_id
from ...registry import AdapterContext, register
from . import query as oq
from .settings import OracleSettings
from .timeline import OracleTimeline
from .wire import _MAX_PAGES, _TYPES, check_id, record_payload, rows_to_records, type_spec

__all__ = ["OracleAdapter", "create_oracle_adapter"]


class OracleAdapter(OracleTimeline):
    """``CrmAdapter`` for Oracle B2C Service."""

    # --- reading -----------------------------------------------------------------------

    async def _read(
        self, record_type: str, ids: list[str], keep_row: Any = None
    ) -> list[CrmRecord]:
        """Full records for ``ids`` in one tabular query, in the order of ``ids`` (only rows
        ``keep_row`` accepts, when given: it sees every phone entry, ``row["_phones"]``)."""
        if not ids:
            return []
        spec = type_spec(record_type)
        names = ["id", "lookupName", "updatedTime", *(n for n, _ in spec.columns)]
        paths = ["id", "lookupName", "updatedTime", *(p for _, p in spec.columns)]
        statement = oq.select(spec.collection, paths, oq.ids_where(ids))
        data = await self._call("GET", "queryResults", params={"query": statement})
        tables = data.get("items") or [{}]
        grouped = rows_to_records(tables[0], names)
        rows = [grouped[i] for i in ids if i in grouped]
        return [self._record(record_type, row) for row in rows if not keep_row or keep_row(row)]

    def _record(self, record_type: str, row: Mapping[str, Any]) -> CrmRecord:
        record_id = str(row["id"])
        fields: dict[str, FieldValue] = {}
        for name, _ in type_spec(record_type).columns:
            if name not in ("phone", "phoneType", "email"):
                fields[name] = row.get(name)
        if record_type == "contact":
            fields["email"] = row["_emails"][0] if row["_emails"] else None
            phones: list[str] = []
            mobiles: list[str] = []
            for number, kind in row["_phones"]:
                (mobiles if "mobile" in kind.casefold() else phones).append(number)
            fields["phone"] = phones[0] if phones else None
            fields["mobile"] = mobiles[0] if mobiles else None
        parents = {
            name: str(fields[name])
            for name in ("organization", "primaryContact", "contact", "incident")
            if fields.get(name)
        }
        # an incident's lookupName is its reference number; agents know it by subject
        title = str(fields.get("subject") or row.get("lookupName") or record_id)
        return CrmRecord(
            type=record_type,
            id=record_id,
            title=title,
            url=self.record_url(record_type, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(row.get("updatedTime")),
            parent_ids=parents,
        )

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        type_spec(record_type)
        found = await self._read(record_type, [check_id(record_id)])
        if not found:
            raise CrmNotFoundError("Oracle B2C Service has no such record")
        return found[0]

    async def _find_ids(self, record_type: str, where: str, limit: int) -> list[str]:
        """Ids matching a ROQL WHERE clause, following ``next`` links (offset paging)."""
        spec = type_spec(record_type)
        ids: list[str] = []
        params: dict[str, Any] | None = {"q": where, "limit": min(100, max(limit, 1)), "offset": 0}
        url: str | None = None
        for _ in range(_MAX_PAGES):
            data = await self._call("GET", spec.collection, params=params, url=url)
            ids += [str(item["id"]) for item in data.get("items") or []]
            next_links = [
                link.get("href") for link in data.get("links") or [] if link.get("rel") == "next"
            ]
            if len(ids) >= limit or not data.get("hasMore") or not next_links:
                break
            url, params = next_links[0], None
        return list(dict.fromkeys(ids))[:limit]

    # --- search ------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        try:
            if isinstance(query, PhoneSearch):
                return await self._search_phone(query)
            if isinstance(query, EmailSearch):
                if query.record_types and "contact" not in query.record_types:
                    return []
                wanted = query.email.strip().casefold()
                return await self._search(
                    "contact",
                    oq.email_where(query.email),
                    query.limit,
                    lambda r: str(r.fields.get("email") or "").casefold() == wanted,
                )
            if isinstance(query, TextSearch):
                return await self._search_text(query)
        except InputError:
            return []  # ';' or nothing searchable: no record can match
        assert isinstance(query, DynamicSearch)
        return await self._search_dynamic(query)

    async def _search(self, record_type: str, where: str, limit: int, keep: Any) -> list[CrmRecord]:
        ids = await self._find_ids(record_type, where, limit)
        return [r for r in await self._read(record_type, ids) if keep(r)][:limit]

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        if query.record_types and "contact" not in query.record_types:
            return []
        forms = phone_variants(query.number, self._region)
        digit_forms = [f for f in dict.fromkeys(digits_only(v) for v in forms) if len(f) >= 5]

        def same(row: Mapping[str, Any]) -> bool:  # every phone entry, not only the first
            return any_stored_number_matches((n for n, _ in row["_phones"]), forms, self._region)

        # rawNumber holds the stored number's digits, whatever its formatting
        ids = await self._find_ids("contact", oq.phone_where(digit_forms), query.limit)
        return (await self._read("contact", ids, same))[: query.limit]

    async def _search_text(self, query: TextSearch) -> list[CrmRecord]:
        words = query.text.casefold().split()
        results: list[CrmRecord] = []
        for kind in query.record_types or ["contact"]:
            if kind not in _TYPES or kind == "task" or len(results) >= query.limit:
                continue

            def keep(record: CrmRecord) -> bool:
                haystack = " ".join(
                    str(v) for v in (record.title, record.fields.get("subject")) if v
                ).casefold()
                return bool(words) and all(w in haystack for w in words)

            results += await self._search(
                kind, oq.text_where(kind, query.text), query.limit - len(results), keep
            )
        return results[: query.limit]

    async def _search_dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        paths = dict(type_spec(query.record_type).paths)
        unknown = [c.field for c in query.conditions if c.field not in paths]
        if unknown:
            raise CrmRejectedError(
                f"Oracle {query.record_type} has no searchable field {unknown[0]!r}"
            )
        try:
            where = oq.dynamic_where(query.conditions, query.join, paths)
        except InputError:
            return []
        return await self._search(query.record_type, where, query.limit, lambda r: True)

    # --- writing -----------------------------------------------------------------------

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        spec = type_spec(record_type)
        data = await self._call("POST", spec.collection, json=record_payload(record_type, fields))
        return await self.get(record_type, str(data["id"]))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        await self._patch(record_type, record_id, record_payload(record_type, fields))
        return await self.get(record_type, record_id)

    # --- related -----------------------------------------------------------------------

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        related: list[CrmRecord] = []
        if record.type == "contact":
            ids = await self._find_ids(
                "incident", oq.comparison("primaryContact.id", record.id), limit
            )
            related += await self._read("incident", ids)
        org = record.id if record.type == "organization" else record.parent_ids.get("organization")
        if org and len(related) < limit:
            ids = await self._find_ids("contact", oq.comparison("organization.id", org), limit + 1)
            related += await self._read("contact", [i for i in ids if i != record.id])
        if record.type == "incident" and record.parent_ids.get("primaryContact"):
            related += await self._read("contact", [record.parent_ids["primaryContact"]])
        return related[:limit]

    # --- metadata ----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        return [
            RecordType(name=name, label=spec.label, supports_timeline=name != "task")
            for name, spec in _TYPES.items()
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        return [f.model_copy() for f in type_spec(record_type).fields]

    def record_url(self, record_type: str, record_id: str) -> str:
        collection = _TYPES[record_type].collection if record_type in _TYPES else record_type
        if self._url_template:
            return self._url_template.format(type=record_type, collection=collection, id=record_id)
        # The Agent Browser UI has no documented deep link: open the REST resource
        return f"{self._api}/{collection}/{record_id}"

    async def check(self) -> list[str]:
        await self._call("GET", "contacts", params={"limit": 1})
        return []

    async def aclose(self) -> None:
        if self._tokens is not None:
            await self._tokens.aclose()


@register("oracle", OracleSettings)
def create_oracle_adapter(context: AdapterContext, settings: OracleSettings) -> OracleAdapter:
    return OracleAdapter(context, settings)
