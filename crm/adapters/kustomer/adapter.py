"""Kustomer adapter (REST API v1, JSON:API shaped).

Record types: ``customer`` (the caller), ``company`` and ``conversation`` (the case). Auth is
an API key of a machine user, sent as a bearer token; it does not expire, so there is no
token to refresh and a 401 means the key was revoked or lacks a role.

A timeline activity is a conversation for the interaction (``externalId`` = activity key,
found again by listing the customer's conversations) carrying an internal note; on an
existing conversation it is a note whose body ends in a key marker.
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
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import search_by_id
from ...registry import AdapterContext, register
from . import query as kq
from .settings import KustomerSettings
from .timeline import KustomerTimeline
from .wire import (
    _MAX_PAGES,
    _PATHS,
    _RECORD_TYPES,
    _STANDARD_FIELDS,
    _custom_field,
    _first,
    _relation_id,
    attributes,
    record_path,
)

__all__ = ["KustomerAdapter", "create_kustomer_adapter"]


class KustomerAdapter(KustomerTimeline):
    """``CrmAdapter`` for Kustomer."""

    # --- records -----------------------------------------------------------------------

    def _record(self, data: Mapping[str, Any]) -> CrmRecord:
        kind = str(data.get("type"))
        attrs = data.get("attributes") or {}
        record_id = str(data.get("id"))
        fields: dict[str, FieldValue] = {}
        parents: dict[str, str] = {}
        if kind == "customer":
            fields["name"] = attrs.get("name")
            fields["email"] = _first(attrs.get("emails"), "email")
            fields["phone"] = _first(attrs.get("phones"), "phone", skip="mobile")
            fields["mobile"] = _first(attrs.get("phones"), "phone", kind="mobile")
            fields["sharedPhone"] = _first(attrs.get("sharedPhones"), "phone")
            company = _relation_id(data, "company")
            fields["company"] = company
            if company:
                parents["company"] = company
            title = str(attrs.get("name") or fields["email"] or record_id)
        else:
            for name in ("name", "status", "priority"):
                if name in attrs:
                    fields[name] = attrs[name]
            customer = _relation_id(data, "customer")
            if kind == "conversation":
                fields["customer"] = customer
                if customer:
                    parents["customer"] = customer
            title = str(attrs.get("name") or f"{kind.title()} {record_id}")
        fields["externalId"] = attrs.get("externalId")
        for name, value in (attrs.get("custom") or {}).items():
            if not isinstance(value, (dict, list)):
                fields.setdefault(name, value)
        return CrmRecord(
            type=kind,
            id=record_id,
            title=title,
            url=self.record_url(kind, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(attrs.get("updatedAt")),
            parent_ids=parents,
        )

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        return self._record(await self._raw(record_type, record_id))

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        path = record_path(record_type)
        body = attributes(record_type, fields)
        data = await self._call("POST", self._url(path), json=body)
        return self._record(data["data"])

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        return self._record(await self._patch(record_type, record_id, fields))

    # --- search ------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        try:
            if isinstance(query, PhoneSearch):
                return await self._search_phone(query)
            if isinstance(query, EmailSearch):
                if query.record_types and "customer" not in query.record_types:
                    return []
                wanted = query.email.strip().casefold()
                return await self._run(
                    [kq.email_body(query.email)],
                    query.limit,
                    lambda r, _: str(r.fields.get("email") or "").casefold() == wanted,
                )
            if isinstance(query, TextSearch):
                return await self._search_text(query)
            assert isinstance(query, DynamicSearch)
            return await self._search_dynamic(query)
        except InputError:
            return []  # nothing searchable is left in the value

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        if query.record_types and "customer" not in query.record_types:
            return []
        forms = phone_variants(query.number, self._region)
        # every stored form Kustomer's search accepts; national and 00 forms by their digits
        contains = forms.significant if forms.domestic else (forms.e164 or "")[1:]

        def same(record: CrmRecord, item: Mapping[str, Any]) -> bool:
            attrs = item.get("attributes") or {}
            entries = [*(attrs.get("phones") or []), *(attrs.get("sharedPhones") or [])]
            numbers = [e.get("phone") for e in entries if isinstance(e, dict)]
            return any_stored_number_matches(numbers, forms, self._region)

        return await self._run([kq.phone_body(forms, contains)], query.limit, same)

    async def _search_text(self, query: TextSearch) -> list[CrmRecord]:
        words = query.text.casefold().split()
        results: list[CrmRecord] = []
        for kind in query.record_types or ["customer"]:
            if kind not in _PATHS or len(results) >= query.limit:
                continue
            results += await self._run(
                [kq.text_body(kind, query.text)],
                query.limit - len(results),
                lambda r, _: (
                    bool(words)
                    and all(w in str(r.fields.get("name") or "").casefold() for w in words)
                ),
            )
        return results[: query.limit]

    async def _search_dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        known = {f.name for f in await self.list_fields(query.record_type)}
        unknown = [c.field for c in query.conditions if c.field not in known]
        if unknown:
            raise CrmRejectedError(f"Kustomer {query.record_type} has no field {unknown[0]!r}")
        bodies = kq.dynamic_bodies(query.record_type, query.conditions, query.join)

        def holds(record: CrmRecord, _: Mapping[str, Any]) -> bool:
            checks = []
            for cond in query.conditions:
                equal = (
                    str(record.fields.get(cond.field) or "").casefold()
                    == cond.value.strip().casefold()
                )
                checks.append(equal if cond.operator == "equals" else not equal)
            return all(checks) if query.join == "and" else any(checks)

        return await self._run(bodies, query.limit, holds)

    async def _run(self, bodies: list[dict[str, Any]], limit: int, keep: Any) -> list[CrmRecord]:
        """POST each search body, follow ``links.next``, keep matches, merge by id."""
        found: dict[tuple[str, str], CrmRecord] = {}
        for body in bodies:
            url: str | None = self._url("customers/search")
            params: dict[str, Any] | None = {"page": 1, "pageSize": min(100, max(limit, 1))}
            for _ in range(_MAX_PAGES):
                if url is None or len(found) >= limit:
                    break
                data = await self._call("POST", url, params=params, json=body)
                for item in data.get("data") or []:
                    record = self._record(item)
                    if keep(record, item):
                        found.setdefault((record.type, record.id), record)
                url, params = self._next(data), None
        return list(found.values())[:limit]

    # --- related -----------------------------------------------------------------------

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        if record.type == "customer":
            conversations = await self._list(f"customers/{record.id}/conversations", limit)
            return [self._record(c) for c in conversations]
        if record.type == "conversation" and record.parent_ids.get("customer"):
            try:
                return [await self.get("customer", record.parent_ids["customer"])]
            except CrmNotFoundError:
                return []
        return []

    # --- metadata ----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        return list(_RECORD_TYPES)

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        record_path(record_type)
        cached = self._fields.get(record_type)
        if cached is None:
            data = await self._call("GET", self._url(f"metadata/{record_type}"))
            attrs = (data.get("data") or {}).get("attributes") or {}
            properties = attrs.get("properties") or {}
            custom = [
                _custom_field(name, meta if isinstance(meta, dict) else {})
                for name, meta in properties.items()
            ]
            cached = [*_STANDARD_FIELDS[record_type], *custom]
            self._fields[record_type] = cached
        return [f.model_copy() for f in cached]

    def record_url(self, record_type: str, record_id: str) -> str:
        return f"{self._app}/app/{_PATHS.get(record_type, record_type)}/{record_id}"

    async def check(self) -> list[str]:
        await self._call("GET", self._url("auth/tokens/current"))
        return []

    async def aclose(self) -> None:
        """Nothing to release: the httpx client is the caller's and API keys need no refresh."""


@register("kustomer", KustomerSettings)
def create_kustomer_adapter(context: AdapterContext, settings: KustomerSettings) -> KustomerAdapter:
    return KustomerAdapter(context, settings)
