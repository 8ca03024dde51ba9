"""Dynamics 365 / Dataverse adapter: the Web API (OData v4) over ``httpx``.

Tokens come from Microsoft Entra ID with the client credentials grant through MSAL's
``ConfidentialClientApplication`` (run in a worker thread: MSAL's HTTP calls block), or,
when a ``token_url`` is configured, from a plain form POST to that endpoint. The token's
``expires_in`` drives the background refresh; a ``401`` mints once more and retries.
Filters are built by the pure functions in ``crm.dynamics_query``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from ...errors import (
    CrmNotFoundError,
    CrmRejectedError,
    CrmUnavailableError,
)
from ...models import (
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldInfo,
    FieldType,
    FieldValue,
    IdSearch,
    PhoneSearch,
    RecordType,
    RecordWrite,
    SearchQuery,
    TimelineActivity,
    TimelineRef,
)
from ...phone import phone_variants
from ...protocol import search_by_id, search_each
from ...registry import AdapterContext, register
from .connection import DynamicsConnection
from .query import (
    any_of,
    build_dynamic_filter,
    build_phone_filter,
    check_logical_name,
    contains,
    eq,
    is_guid,
)
from .settings import DynamicsSettings
from .wire import (
    _ANNOTATIONS,
    _DEFAULTED,
    _LOOKUP_TYPE,
    _STRING_FORMATS,
    _SYSTEM_LOOKUPS,
    _TYPES,
    VENDOR,
    BatchOperation,
    Table,
    _json,
    _label,
    _parse_datetime,
    activity_payload,
    carries_key,
    created_id,
    key_marker,
    missing_table_settings,
    missing_table_warning,
    phone_matches,
)

__all__ = ["DynamicsAdapter"]

_NAME_ONLY = {"$select": "LogicalName"}


class DynamicsAdapter(DynamicsConnection):
    """``CrmAdapter`` for Dynamics 365 / Dataverse (Web API, configurable version)."""

    # --- metadata ----------------------------------------------------------------------------

    async def _table(self, logical_name: str) -> Table:
        check_logical_name(logical_name, what="record_type")
        if logical_name not in self._tables:
            meta = await self._get(
                f"EntityDefinitions(LogicalName='{logical_name}')",
                {"$select": "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute"},
            )
            table = Table(
                logical_name,
                str(meta["EntitySetName"]),
                str(meta["PrimaryIdAttribute"]),
                str(meta.get("PrimaryNameAttribute") or meta["PrimaryIdAttribute"]),
            )
            fields = await self.list_fields(logical_name)
            self._tables[logical_name] = Table(
                table.logical_name,
                table.entity_set,
                table.primary_id,
                table.primary_name,
                tuple(f.name for f in fields if f.type == FieldType.PHONE),
                tuple(f.name for f in fields if f.type == FieldType.EMAIL),
            )
        return self._tables[logical_name]

    async def list_record_types(self) -> list[RecordType]:
        body = await self._get(
            "EntityDefinitions",
            {
                "$select": (
                    "LogicalName,EntitySetName,DisplayName,IsCustomEntity,IsActivity,HasActivities,"
                    "IsValidForAdvancedFind,IsIntersect"
                )
            },
        )
        return [
            RecordType(
                name=e["LogicalName"],
                label=_label(e, e["LogicalName"]),
                standard=not e.get("IsCustomEntity"),
                createable=not e.get("IsIntersect"),
                searchable=True,
                supports_timeline=bool(e.get("HasActivities")),
            )
            for e in body.get("value", [])
            if e.get("IsValidForAdvancedFind") and not e.get("IsIntersect")
        ]

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        check_logical_name(record_type, what="record_type")
        if record_type in self._fields:
            return self._fields[record_type]
        base = f"EntityDefinitions(LogicalName='{record_type}')/Attributes"
        cast = base + "/Microsoft.Dynamics.CRM."
        attributes = await self._get(
            base,
            {
                "$select": (
                    "LogicalName,AttributeType,DisplayName,RequiredLevel,IsValidForCreate,"
                    "IsValidForUpdate,IsCustomAttribute,AttributeOf"
                )
            },
        )
        strings = await self._get(
            cast + "StringAttributeMetadata", {"$select": "LogicalName,MaxLength,FormatName"}
        )
        memos = await self._get(
            cast + "MemoAttributeMetadata", {"$select": "LogicalName,MaxLength"}
        )
        picklists = await self._get(
            cast + "PicklistAttributeMetadata",
            {"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
        )
        lengths = {a["LogicalName"]: a for a in strings.get("value", []) + memos.get("value", [])}
        options = {
            p["LogicalName"]: [
                _label({"DisplayName": o.get("Label")}, str(o.get("Value")))
                for o in (p.get("OptionSet") or {}).get("Options", [])
            ]
            for p in picklists.get("value", [])
        }
        fields = [
            self._field_info(
                a, lengths.get(a["LogicalName"], {}), options.get(a["LogicalName"], [])
            )
            for a in attributes.get("value", [])
            if not a.get("AttributeOf")
        ]
        self._fields[record_type] = fields
        return fields

    @staticmethod
    def _field_info(
        meta: Mapping[str, Any], extra: Mapping[str, Any], options: list[str]
    ) -> FieldInfo:
        name = str(meta["LogicalName"])
        kind = str(meta.get("AttributeType") or "")
        if kind == "String":
            fmt = str((extra.get("FormatName") or {}).get("Value") or "Text")
            field_type = _STRING_FORMATS.get(fmt, FieldType.TEXT)
        else:
            field_type = _TYPES.get(kind, FieldType.OTHER)
        level = str((meta.get("RequiredLevel") or {}).get("Value") or "None")
        createable = bool(meta.get("IsValidForCreate"))
        return FieldInfo(
            name=name,
            label=_label(meta, name),
            type=field_type,
            max_length=int(extra["MaxLength"]) if extra.get("MaxLength") else None,
            required=createable
            and name not in _DEFAULTED
            and level in ("SystemRequired", "ApplicationRequired"),
            createable=createable,
            updateable=bool(meta.get("IsValidForUpdate")),
            custom=bool(meta.get("IsCustomAttribute")),
            options=options,
        )

    # --- records ---------------------------------------------------------------------------

    def _to_record(self, table: Table, raw: Mapping[str, Any]) -> CrmRecord:
        fields: dict[str, FieldValue] = {
            k: v
            for k, v in raw.items()
            if "@" not in k and (v is None or isinstance(v, str | int | float | bool))
        }
        parents: dict[str, str] = {}
        for key, value in raw.items():
            if not key.endswith(_LOOKUP_TYPE) or not isinstance(value, str):
                continue
            column = key[: -len(_LOOKUP_TYPE)]
            if column.strip("_").removesuffix("_value") not in _SYSTEM_LOOKUPS and raw.get(column):
                parents[value] = str(raw[column])
        record_id = str(raw.get(table.primary_id) or "")
        title = fields.get(table.primary_name) or record_id
        return CrmRecord(
            type=table.logical_name,
            id=record_id,
            title=str(title),
            url=self.record_url(table.logical_name, record_id),
            fields=fields,
            updated_at=_parse_datetime(raw.get("modifiedon")),
            parent_ids=parents,
        )

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        table = await self._table(record_type)
        if not is_guid(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        raw = await self._get(f"{table.entity_set}({record_id})")
        return self._to_record(table, raw)

    async def _check_required(self, record_type: str, fields: Mapping[str, FieldValue]) -> None:
        # Dataverse enforces only system-required columns on the API; business-required ones
        # are a form rule. The adapter is this product's form, so it enforces both.
        given = {k.split("@")[0].rsplit("_", 1)[0] if "@" in k else k for k in fields}
        for info in await self.list_fields(record_type):
            if info.required and fields.get(info.name) in (None, "") and info.name not in given:
                raise CrmRejectedError(f"{info.label} is required", field=info.name)

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        table = await self._table(record_type)
        await self._check_required(record_type, fields)
        response = await self._request(
            "POST",
            self._url(table.entity_set),
            json=dict(fields),
            prefer=f"return=representation,{_ANNOTATIONS}",
        )
        return self._to_record(table, _json(response))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        table = await self._table(record_type)
        if not is_guid(record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {record_type} with that id")
        if not fields:
            return await self.get(record_type, record_id)
        response = await self._send(
            self._update(table, record_id, fields), prefer=f"return=representation,{_ANNOTATIONS}"
        )
        return self._to_record(table, _json(response))

    def _update(
        self, table: Table, record_id: str, fields: Mapping[str, FieldValue]
    ) -> BatchOperation:
        # If-Match: * makes PATCH update only: it must never create a row with this id
        return BatchOperation(
            "PATCH",
            self._url(f"{table.entity_set}({record_id})"),
            dict(fields),
            {"If-Match": "*"},
        )

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        queries: list[tuple[str, str]] = []
        me = record.id
        if not is_guid(me):
            return []
        if record.type == "contact":
            account = record.parent_ids.get("account")
            if account and is_guid(account):
                queries.append(
                    ("contact", f"_parentcustomerid_value eq {account} and contactid ne {me}")
                )
            queries.append(("incident", f"_customerid_value eq {me}"))
        elif record.type == "account":
            queries += [
                ("contact", f"_parentcustomerid_value eq {me}"),
                ("incident", f"_customerid_value eq {me}"),
            ]
        result: list[CrmRecord] = []
        for logical_name, filter_ in queries:
            if len(result) >= limit:
                break
            table = await self._table(logical_name)
            rows = await self._query(table, filter_, limit - len(result), "modifiedon desc")
            result += [self._to_record(table, r) for r in rows]
        if record.type == "incident":
            for kind, parent in record.parent_ids.items():
                if kind in ("contact", "account") and len(result) < limit:
                    with contextlib.suppress(CrmNotFoundError):
                        result.append(await self.get(kind, parent))
        return result[:limit]

    # --- search --------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        if isinstance(query, DynamicSearch):
            table = await self._table(query.record_type)
            rows = await self._query(
                table, build_dynamic_filter(query.conditions, query.join), query.limit
            )
            return [self._to_record(table, r) for r in rows]
        variants = (
            phone_variants(query.number, self._region) if isinstance(query, PhoneSearch) else None
        )

        async def one(logical_name: str, remaining: int) -> list[CrmRecord]:
            table = await self._table(logical_name)  # CrmNotFoundError: the org lacks it
            if isinstance(query, PhoneSearch):
                filter_ = build_phone_filter(table.phone_fields, variants)  # type: ignore[arg-type]
            elif isinstance(query, EmailSearch):
                email = query.email.strip()
                filter_ = (
                    any_of(eq(f, email) for f in table.email_fields)
                    if email and table.email_fields
                    else None
                )
            else:
                text = query.text.strip()
                filter_ = contains(table.primary_name, text) if text else None
            if filter_ is None:
                return []
            rows = await self._query(table, filter_, remaining)
            if variants is not None:  # the digit pattern over-approximates; keep true matches
                rows = [r for r in rows if phone_matches(r, table, variants, self._region)]
            return [self._to_record(table, r) for r in rows]

        types = query.record_types or self._settings.caller_record_types
        return (await search_each(types, query.limit, one))[: query.limit]

    # --- timeline ----------------------------------------------------------------------------

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """A memorialization job's values and activity in ONE ``POST $batch`` (Microsoft
        Learn, "Execute batch operations using the Web API"): the ``PATCH`` of the values,
        then the activity's create, as two operations outside any change set with ``Prefer:
        odata.continue-on-error``.

        Not a change set, on purpose: a change set is atomic, so an activity Dataverse
        refuses (a description longer than the org's column, a plug-in's veto) or cannot
        write just then would roll the values back with it. The values are what the agent's
        interaction left on the record; they stand on their own, and a retry writes the same
        values again (no change) and creates the activity only. The other way round, a value
        Dataverse refuses does not hold the call's activity back either; the refused value
        is raised (``CrmRejectedError`` naming the field) and a later attempt finds the
        activity by its key. Of several failing parts, the first (the values') is raised.

        ``activity_may_exist``: the key is looked up first (re-checked as ``add_timeline``
        does); a found activity is not sent again. What is left to send, when it is a
        single operation, goes as a plain request."""
        table = await self._table(write.record_type)
        if not is_guid(write.record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {write.record_type} with that id")
        update = self._update(table, write.record_id, write.fields) if write.fields else None
        activity = write.activity
        if activity is None:
            if update is not None:
                await self._send(update)
            return None
        regarding, kind = await self._activity_tables(activity)
        # a look-up and the create it decides on are one step per adapter (see add_timeline)
        async with self._timeline_lock if write.activity_may_exist else contextlib.nullcontext():
            found = await self._find_activity(kind, activity) if write.activity_may_exist else None
            if found is not None:
                if update is not None:
                    await self._send(update)
                return found
            create = self._create_activity(kind, regarding, activity)
            if update is None:
                return self._created(kind, (await self._send(create)).headers)
            _, created = await self._batch([update, create])
            return self._created(kind, created.headers)

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        table, kind = await self._activity_tables(activity)
        async with self._timeline_lock:  # one check-then-create at a time per adapter
            found = await self._find_activity(kind, activity)
            if found is not None:
                return found
            response = await self._send(self._create_activity(kind, table, activity))
            return self._created(kind, response.headers)

    async def _activity_tables(self, activity: TimelineActivity) -> tuple[Table, Table]:
        """(the regarding row's table, the activity's table) of an activity to link."""
        table = await self._table(activity.record_type)
        if not is_guid(activity.record_id):
            raise CrmNotFoundError(f"{VENDOR} has no {activity.record_type} with that id")
        return table, await self._table(self._settings.timeline_activity)

    async def _find_activity(self, kind: Table, activity: TimelineActivity) -> TimelineRef | None:
        """The activity an earlier attempt created for this key, if any."""
        s = self._settings
        if s.timeline_key_field:
            filter_ = eq(s.timeline_key_field, activity.key)
        else:
            filter_ = f"_regardingobjectid_value eq {activity.record_id} and " + contains(
                "description", key_marker(activity.key)
            )
        for row in await self._query(kind, filter_, 10):  # re-checked: see carries_key
            if carries_key(row, activity, s.timeline_key_field):
                return TimelineRef(
                    id=str(row[kind.primary_id]), type=kind.logical_name, created=False
                )
        return None

    def _create_activity(
        self, kind: Table, regarding: Table, activity: TimelineActivity
    ) -> BatchOperation:
        return BatchOperation(
            "POST",
            self._url(kind.entity_set),
            activity_payload(activity, regarding, self._settings),
        )

    @staticmethod
    def _created(kind: Table, headers: Mapping[str, str]) -> TimelineRef:
        activity_id = created_id(headers)
        if activity_id is None:  # a retry finds the activity by its key
            raise CrmUnavailableError(f"{VENDOR} did not say which {kind.logical_name} it created")
        return TimelineRef(id=activity_id, type=kind.logical_name)

    # --- lifecycle ---------------------------------------------------------------------------

    async def check(self) -> list[str]:
        await self._get("WhoAmI")  # proves token, host, version and the application user
        s, warnings = self._settings, []
        for setting, name in missing_table_settings(s):
            check_logical_name(name, what=setting)
            try:  # the organization's own metadata: standard tables are known without asking
                await self._get(f"EntityDefinitions(LogicalName='{name}')", _NAME_ONLY)
            except CrmNotFoundError:
                warnings.append(missing_table_warning(setting, name))
        return warnings

    async def aclose(self) -> None:
        await self._tokens.aclose()
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None
        with self._msal_guard:  # a request in flight finds its pool closed and closes too
            self._closed = True
            if self._msal_session is not None:
                self._msal_session.close()
                self._msal_session = None
                self._msal = None


@register("dynamics", DynamicsSettings)
def create_dynamics_adapter(context: AdapterContext, settings: DynamicsSettings) -> DynamicsAdapter:
    """Registry factory: a Dataverse adapter for one configuration."""
    return DynamicsAdapter(context, settings)
