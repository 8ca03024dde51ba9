"""Salesforce adapter: REST API (SOQL, SOSL, sObject rows, describe) over ``httpx``.

Auth is OAuth 2.0 client credentials or JWT bearer; the token answer carries no lifetime, so
the token is cached until Salesforce answers ``401 INVALID_SESSION_ID``, then minted again
once and the call retried. Queries are built by the pure functions in
``crm.salesforce_query``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ...errors import (
    CrmNotFoundError,
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
from ...protocol import missing_caller_types, search_by_id, search_each
from ...registry import AdapterContext, register
from .query import (
    ReturningSpec,
    build_dynamic_where,
    build_phone_sosl,
    build_select,
    build_where_equals,
    build_where_like,
    check_api_name,
    quote_soql_value,
    sosl_phone_terms,
)
from .settings import SalesforceSettings
from .timeline import SalesforceTimeline
from .wire import (
    _ACTIVITY_TARGETS,
    _ID_PREFIXES,
    _SKIPPED_TYPES,
    _SYSTEM_REFERENCES,
    _field_info,
    _json,
)

__all__ = ["SalesforceAdapter"]


class SalesforceAdapter(SalesforceTimeline):
    """``CrmAdapter`` for Salesforce (REST API, configurable version)."""

    # --- metadata ---------------------------------------------------------------------

    async def _describe(self, sobject: str) -> dict[str, Any]:
        check_api_name(sobject, what="record_type")
        if sobject not in self._describes:
            self._describes[sobject] = await self._get_json(f"sobjects/{sobject}/describe/")
        return self._describes[sobject]

    async def _select_fields(self, sobject: str) -> tuple[str, ...]:
        describe = await self._describe(sobject)
        names = [
            f["name"] for f in describe.get("fields", []) if f.get("type") not in _SKIPPED_TYPES
        ]
        return tuple(names[:200]) or ("Id",)

    async def _fields_of_type(self, sobject: str, kind: str) -> list[str]:
        describe = await self._describe(sobject)
        return [f["name"] for f in describe.get("fields", []) if f.get("type") == kind]

    async def _name_fields(self, sobject: str) -> list[str]:
        describe = await self._describe(sobject)
        fields = describe.get("fields", [])
        names = [f["name"] for f in fields if f.get("nameField")]
        if any(f["name"] == "Subject" for f in fields):
            names.append("Subject")  # Case, Task: the subject is what people search by
        return names

    async def list_record_types(self) -> list[RecordType]:
        body = await self._get_json("sobjects/")
        return [
            RecordType(
                name=o["name"],
                label=o.get("label") or o["name"],
                standard=not o.get("custom"),
                createable=bool(o.get("createable")),
                searchable=bool(o.get("searchable")),
                supports_timeline=o["name"] in _ACTIVITY_TARGETS or bool(o.get("custom")),
            )
            for o in body.get("sobjects", [])
            if o.get("queryable") and o.get("layoutable") and not o.get("deprecatedAndHidden")
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        describe = await self._describe(record_type)
        return [_field_info(f) for f in describe.get("fields", [])]

    # --- records ----------------------------------------------------------------------

    async def _to_record(self, sobject: str, raw: Mapping[str, Any]) -> CrmRecord:
        describe = await self._describe(sobject)
        kinds = {f["name"]: f for f in describe.get("fields", [])}
        fields: dict[str, FieldValue] = {
            k: v
            for k, v in raw.items()
            if k != "attributes" and (v is None or isinstance(v, str | int | float | bool))
        }
        title_field = (
            "Subject"
            if fields.get("Subject")
            else next((f["name"] for f in kinds.values() if f.get("nameField")), "Id")
        )
        parents: dict[str, str] = {}
        for name, meta in kinds.items():
            value = fields.get(name)
            if meta.get("type") != "reference" or not value or name in _SYSTEM_REFERENCES:
                continue
            targets = meta.get("referenceTo") or []
            kind = targets[0] if len(targets) == 1 else _ID_PREFIXES.get(str(value)[:3])
            if kind and kind not in ("User", "Group"):
                parents[kind] = str(value)
        record_id = str(raw.get("Id") or "")
        return CrmRecord(
            type=sobject,
            id=record_id,
            title=str(fields.get(title_field) or record_id),
            url=self.record_url(sobject, record_id),
            fields=fields,
            updated_at=parse_iso_datetime(raw.get("LastModifiedDate")),
            parent_ids=parents,
        )

    async def _records(self, rows: list[dict[str, Any]]) -> list[CrmRecord]:
        return [await self._to_record(str(r["attributes"]["type"]), r) for r in rows]

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        raw = await self._get_json(self._record_path(record_type, record_id))
        return await self._to_record(record_type, raw)

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        check_api_name(record_type, what="record_type")
        body = _json(await self._request("POST", f"sobjects/{record_type}/", json=dict(fields)))
        return await self.get(record_type, str(body["id"]))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        path = self._record_path(record_type, record_id)
        if fields:
            await self._request("PATCH", path, json=dict(fields))
        return await self.get(record_type, record_id)

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        queries: list[tuple[str, str]] = []  # (sobject, where)
        account = str(record.fields.get("AccountId") or record.parent_ids.get("Account") or "")
        me = quote_soql_value(record.id)
        if record.type == "Contact":
            if account:
                queries.append(
                    ("Contact", f"AccountId = {quote_soql_value(account)} AND Id != {me}")
                )
            queries.append(("Case", f"ContactId = {me}"))
        elif record.type == "Account":
            queries += [("Contact", f"AccountId = {me}"), ("Case", f"AccountId = {me}")]
        result: list[CrmRecord] = []
        for sobject, where in queries:
            if len(result) >= limit:
                break
            fields = await self._select_fields(sobject)
            soql = build_select(
                sobject, fields, where, limit=limit - len(result), order_by="LastModifiedDate"
            )
            result += await self._records(await self._query(soql, limit - len(result)))
        if record.type == "Case":
            for kind in ("Contact", "Account"):
                if record.parent_ids.get(kind) and len(result) < limit:
                    with contextlib.suppress(CrmNotFoundError):
                        result.append(await self.get(kind, record.parent_ids[kind]))
        return result[:limit]

    # --- search -----------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, PhoneSearch):
            return await self._search_phone(query)
        if isinstance(query, EmailSearch):
            return await self._search_each(
                query.record_types, query.limit, lambda t: self._email_where(t, query.email)
            )
        if isinstance(query, TextSearch):
            return await self._search_each(
                query.record_types, query.limit, lambda t: self._text_where(t, query.text)
            )
        if isinstance(query, IdSearch):
            check_api_name(query.record_type, what="record_type")
            return await search_by_id(self, query)
        if isinstance(query, DynamicSearch):
            where = build_dynamic_where(query.conditions, query.join)
            fields = await self._select_fields(query.record_type)
            soql = build_select(query.record_type, fields, where, limit=query.limit)
            return await self._records(await self._query(soql, query.limit))
        raise AssertionError(f"unknown search {query!r}")

    async def _email_where(self, sobject: str, email: str) -> str | None:
        fields = await self._fields_of_type(sobject, "email")
        return build_where_equals(fields, email.strip()) if fields and email.strip() else None

    async def _text_where(self, sobject: str, text: str) -> str | None:
        fields = await self._name_fields(sobject)
        return build_where_like(fields, text.strip()) if fields and text.strip() else None

    async def _search_each(
        self,
        record_types: list[str] | None,
        limit: int,
        where_for: Callable[[str], Awaitable[str | None]],
    ) -> list[CrmRecord]:
        async def one(sobject: str, remaining: int) -> list[CrmRecord]:
            where = await where_for(sobject)  # CrmNotFoundError: the org lacks the object
            if where is None:
                return []
            fields = await self._select_fields(sobject)
            soql = build_select(sobject, fields, where, limit=remaining)
            return await self._records(await self._query(soql, remaining))

        types = record_types or self._settings.caller_record_types
        return (await search_each(types, limit, one))[:limit]

    async def _search_phone(self, query: PhoneSearch) -> list[CrmRecord]:
        variants = phone_variants(query.number, self._region)
        terms = sosl_phone_terms(variants)
        if not terms:
            return []
        sobjects = query.record_types or list(self._settings.caller_record_types)
        specs: list[ReturningSpec] = []

        async def returning(sobject: str, _: int) -> list[CrmRecord]:
            # one SOSL over every object fails whole on a missing one: describe each first
            fields = await self._select_fields(sobject)
            specs.append(ReturningSpec(sobject, fields, limit=query.limit))
            return []

        await search_each(sobjects, query.limit, returning)
        sosl = build_phone_sosl(terms, specs, limit=query.limit)
        body = await self._get_json("search", {"q": sosl})
        rows = body.get("searchRecords", []) if isinstance(body, dict) else body
        found: list[CrmRecord] = []
        for row in rows:
            sobject = str(row["attributes"]["type"])
            phones = await self._fields_of_type(sobject, "phone")
            # SOSL matches search tokens; keep only rows whose number is the caller's.
            if any_stored_number_matches((row.get(p) for p in phones), variants, self._region):
                found.append(await self._to_record(sobject, row))
        return found[: query.limit]

    # --- lifecycle --------------------------------------------------------------------

    async def check(self) -> list[str]:
        await self._get_json("")  # the version's resource list: proves token, host and version
        types = self._settings.caller_record_types
        return await missing_caller_types("caller_record_types", types, self._describe)

    async def aclose(self) -> None:
        await self._tokens.aclose()


@register("salesforce", SalesforceSettings)
def create_salesforce_adapter(
    context: AdapterContext, settings: SalesforceSettings
) -> SalesforceAdapter:
    """Registry factory: a Salesforce adapter for one configuration."""
    return SalesforceAdapter(context, settings)
