"""Zendesk Support adapter (Ticketing API v2).

Record types: ``user`` (the caller), ``organization`` and ``ticket`` (the case). Auth is an
OAuth client-credentials token (cached and refreshed by ``TokenManager``) or, until Zendesk
retires them on 2027-04-30, an API token. Search uses the Search API; every result is
checked against what was asked before it is returned (see ``query``).

Zendesk has no task or call object, so a timeline activity (``timeline``) is either a new
ticket requested by the user (``external_id`` holds the activity key, so it is created once)
or an internal note on an existing ticket (a private comment ending in a key marker).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import (
    CrmAuthError,
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
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import search_by_id
from ...registry import AdapterContext, register
from . import query as zq
from .settings import ZendeskSettings
from .timeline import ZendeskTimeline
from .wire import (
    _MAX_SEARCH_PAGES,
    _RECORD_TYPES,
    _STATIC_FIELDS,
    ORG_STANDARD,
    TICKET_STANDARD,
    USER_STANDARD,
    _custom_field,
    _national_digits,
    _scalar,
    _str,
    _ticket_field,
    check_id,
    record_path,
    record_payload,
)

__all__ = ["ZendeskAdapter", "create_zendesk_adapter"]


class ZendeskAdapter(ZendeskTimeline):
    """``CrmAdapter`` for Zendesk Support."""

    # --- records -----------------------------------------------------------------------

    def _record(self, kind: str, data: Mapping[str, Any]) -> CrmRecord:
        record_id = str(data.get("id"))
        fields: dict[str, FieldValue] = {}
        parents: dict[str, str] = {}
        if kind == "ticket":
            title = str(data.get("subject") or f"Ticket {record_id}")
            for name in (*TICKET_STANDARD, "description", "tags"):
                fields[name] = _scalar(data.get(name))
            for custom in data.get("custom_fields") or []:
                fields[f"custom_field_{custom.get('id')}"] = _scalar(custom.get("value"))
            if data.get("requester_id"):
                parents["user"] = str(data["requester_id"])
        else:
            title = str(data.get("name") or record_id)
            names = USER_STANDARD if kind == "user" else (*ORG_STANDARD, "domain_names")
            for name in names:
                fields[name] = _scalar(data.get(name))
            extra = data.get("user_fields" if kind == "user" else "organization_fields") or {}
            for name, value in extra.items():
                fields.setdefault(name, _scalar(value))
        if data.get("organization_id") and kind != "organization":
            parents["organization"] = str(data["organization_id"])
        return CrmRecord(
            type=kind,
            id=record_id,
            title=title,
            url=self.record_url(kind, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(data.get("updated_at")),
            parent_ids=parents,
        )

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        path = record_path(record_type)
        data = await self._call("GET", self._url(f"{path}/{check_id(record_id)}"))
        return self._record(record_type, data[record_type])

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        path = record_path(record_type)
        body = {record_type: record_payload(record_type, fields)}
        data = await self._call("POST", self._url(path), json=body)
        return self._record(record_type, data[record_type])

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        return self._record(record_type, await self._put(record_type, record_id, fields))

    # --- search ------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        try:
            if isinstance(query, PhoneSearch):
                return await self._search_phone(query)
            if isinstance(query, EmailSearch):
                return await self._search_filtered(
                    [zq.email_query(query.email)],
                    query.limit,
                    lambda r: zq.matches_email(_str(r.fields.get("email")), query.email),
                    allowed=query.record_types,
                    kind="user",
                )
            if isinstance(query, TextSearch):
                return await self._search_text(query)
            assert isinstance(query, DynamicSearch)
            await self._check_fields(query)
            return await self._search_dynamic(query)
        except InputError:
            # nothing searchable is left in the value: it cannot match any record
            return []

    async def _check_fields(self, query: DynamicSearch) -> None:
        """Only fields the record type has may be searched (CrmRejectedError otherwise)."""
        known = self._field_names.get(query.record_type)
        if known is None:
            known = {f.name for f in await self.list_fields(query.record_type)}
            self._field_names[query.record_type] = known
        unknown = [c.field for c in query.conditions if c.field not in known]
        if unknown:
            raise CrmRejectedError(f"Zendesk {query.record_type} has no field {unknown[0]!r}")

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        if query.record_types and "user" not in query.record_types:
            return []
        national, e164 = _national_digits(query.number, self._region)
        if len(national) < 5:
            return []  # a suffix this short would match unrelated numbers
        forms = phone_variants(query.number, self._region)

        def same(record: CrmRecord) -> bool:
            numbers = (record.fields.get(f) for f in self._phone_fields)
            return any_stored_number_matches(numbers, forms, self._region)

        queries = [zq.phone_query(national, field) for field in self._phone_fields]
        return await self._search_filtered(queries, query.limit, same)

    async def _search_text(self, query: TextSearch) -> list[CrmRecord]:
        results: list[CrmRecord] = []
        for kind in query.record_types or ["user"]:
            if kind not in _RECORD_TYPES:
                continue
            title_field = "subject" if kind == "ticket" else "name"
            results += await self._search_filtered(
                [zq.text_query(kind, query.text)],
                query.limit - len(results),
                lambda r, f=title_field: zq.matches_text(_str(r.fields.get(f)), query.text),
            )
            if len(results) >= query.limit:
                break
        return results[: query.limit]

    async def _search_dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        record_path(query.record_type)
        queries = zq.dynamic_queries(query.record_type, query.conditions, query.join)

        def holds(record: CrmRecord) -> bool:
            return zq.conditions_hold(record.fields, query.conditions, query.join)

        return await self._search_filtered(queries, query.limit, holds)

    async def _search_filtered(
        self,
        queries: list[str],
        limit: int,
        keep: Any,
        *,
        allowed: list[str] | None = None,
        kind: str | None = None,
    ) -> list[CrmRecord]:
        """Run each query, follow ``next_page``, keep matching records, merge by id."""
        if allowed and kind and kind not in allowed:
            return []
        found: dict[tuple[str, str], CrmRecord] = {}
        for text in queries:
            url: str | None = self._url("search")
            params: dict[str, Any] | None = {"query": text, "per_page": min(100, max(limit, 1))}
            for _ in range(_MAX_SEARCH_PAGES):
                if url is None or len(found) >= limit:
                    break
                data = await self._call("GET", url, params=params)
                for item in data.get("results") or []:
                    result_type = item.get("result_type")
                    if result_type not in _RECORD_TYPES:
                        continue
                    record = self._record(result_type, item)
                    if keep(record):
                        found.setdefault((record.type, record.id), record)
                url, params = data.get("next_page"), None
        return list(found.values())[:limit]

    # --- related -----------------------------------------------------------------------

    async def _list(self, path: str, key: str, kind: str, limit: int) -> list[CrmRecord]:
        """A cursor-paged list (``page[size]``, ``meta.has_more``, ``links.next``)."""
        records: list[CrmRecord] = []
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"page[size]": min(100, max(limit, 1))}
        while url and len(records) < limit:
            data = await self._call("GET", url, params=params)
            records += [self._record(kind, item) for item in data.get(key) or []]
            has_more = (data.get("meta") or {}).get("has_more")
            url = (data.get("links") or {}).get("next") if has_more else None
            params = None
        return records[:limit]

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        related: list[CrmRecord] = []
        if record.type == "user":
            related += await self._list(
                f"users/{record.id}/tickets/requested", "tickets", "ticket", limit
            )
        org = record.id if record.type == "organization" else record.parent_ids.get("organization")
        if org and len(related) < limit:
            people = await self._list(
                f"organizations/{org}/users", "users", "user", limit - len(related) + 1
            )
            related += [p for p in people if p.id != record.id]
        if record.type == "ticket" and record.parent_ids.get("user"):
            try:
                related.insert(0, await self.get("user", record.parent_ids["user"]))
            except CrmNotFoundError:
                pass
        return related[:limit]

    # --- metadata ----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        return list(_RECORD_TYPES.values())

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        record_path(record_type)
        if record_type == "ticket":
            data = await self._call("GET", self._url("ticket_fields"))
            fields = [_ticket_field(f) for f in data.get("ticket_fields") or [] if f.get("active")]
            return [*fields, *_STATIC_FIELDS["ticket"]]
        key = f"{record_type}_fields"
        data = await self._call("GET", self._url(key))
        custom = [_custom_field(f) for f in data.get(key) or [] if f.get("active", True)]
        return [*_STATIC_FIELDS[record_type], *custom]

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._ui}/agent/{record_type}s/{record_id}"

    async def check(self) -> list[str]:
        data = await self._call("GET", self._url("users/me"))
        if not (data.get("user") or {}).get("id"):
            raise CrmAuthError("Zendesk treated the integration as an anonymous user")
        return []

    async def aclose(self) -> None:
        # the httpx client belongs to the caller and is shared by every adapter
        if self._tokens is not None:
            await self._tokens.aclose()


@register("zendesk", ZendeskSettings)
def create_zendesk_adapter(context: AdapterContext, settings: ZendeskSettings) -> ZendeskAdapter:
    return ZendeskAdapter(context, settings)
