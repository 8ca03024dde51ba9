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
    RecordWrite,
    SearchQuery,
    TextSearch,
    TimelineActivity,
    TimelineRef,
)
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import missing_caller_types, search_by_id, search_each
from ...registry import AdapterContext, register
from .connection import SalesforceConnection
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
from .wire import (
    _ACTIVITY_TARGETS,
    _ID_PREFIXES,
    _RECORD_ID,
    _SKIPPED_TYPES,
    _SYSTEM_REFERENCES,
    VENDOR,
    SubRequest,
    _field_info,
    _json,
    _timeline_key,
    composite_bodies,
    composite_request,
    task_payload,
)

__all__ = ["SalesforceAdapter"]


class SalesforceAdapter(SalesforceConnection):
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

    @staticmethod
    def _record_path(record_type: str, record_id: str) -> str:
        """``sobjects/{type}/{id}``, both checked first (a malformed id exists nowhere)."""
        check_api_name(record_type, what="record_type")
        if not _RECORD_ID.match(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        return f"sobjects/{record_type}/{record_id}"

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

    # --- timeline ---------------------------------------------------------------------

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """The values (``PATCH sobjects/{type}/{id}``) and the Task (``POST sobjects/Task``)
        in one Composite request; a lone part as a plain request. When an earlier attempt
        may have sent the Task, its key is looked up first (as ``add_timeline`` does) and
        only what is still needed is sent."""
        path = self._record_path(write.record_type, write.record_id)
        update = SubRequest("values", "PATCH", path, dict(write.fields)) if write.fields else None
        activity, found = write.activity, None
        if activity is not None:
            check_api_name(activity.record_type, what="record_type")
            if not write.activity_may_exist:  # nothing can have been sent: no look-up
                return await self._create_task(activity, update)
            async with self._timeline_lock:  # one check-then-create at a time per adapter
                found = await self._find_task(activity.key)
                if found is None:
                    return await self._create_task(activity, update)
        if update is not None:  # no activity, or an earlier attempt created it
            await self._request(update.method, update.path, json=update.body)
        return found

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        check_api_name(activity.record_type, what="record_type")
        async with self._timeline_lock:  # one check-then-create at a time per adapter
            return await self._find_task(activity.key) or await self._create_task(activity)

    async def _find_task(self, key: str) -> TimelineRef | None:
        """The Task an earlier attempt created for ``key``, if any."""
        key_field = self._settings.timeline_key_field
        stored = _timeline_key(key)
        where = f"{key_field} = {quote_soql_value(stored)}"
        select = build_select("Task", ["Id", key_field], where, limit=10)
        for row in await self._query(select, 10):  # re-checked: a wrong reply drops nothing
            if row.get(key_field) == stored:
                return TimelineRef(id=str(row["Id"]), type="Task", created=False)
        return None

    async def _create_task(
        self, activity: TimelineActivity, update: SubRequest | None = None
    ) -> TimelineRef:
        """Creates the activity's Task; with ``update``, both in one Composite request
        (``allOrNone`` false: a refused Task leaves the values written, and the other way
        round). A failed part raises its error as a plain reply would."""
        task = SubRequest(
            "task",
            "POST",
            "sobjects/Task/",
            task_payload(activity, self._settings.timeline_key_field),
        )
        if update is None:
            body = _json(await self._request(task.method, task.path, json=task.body))
        else:
            parts = (update, task)
            request = composite_request(self._settings.version, parts)
            reply = _json(await self._request("POST", "composite", json=request))
            body = composite_bodies(reply, parts)[task.reference_id]
        return TimelineRef(id=str(body["id"]), type="Task", created=True)

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
