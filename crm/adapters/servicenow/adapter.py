"""ServiceNow adapter: Table API (``/api/now/table``), dictionary metadata, journal entries
and interaction records for the timeline.

Auth is Basic (integration user) or OAuth: password grant once, then the refresh token,
both through ``TokenManager`` so tokens are refreshed in the background ahead of expiry; a
``401`` on an OAuth call drops the token and retries once with a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import phonenumbers

from ...errors import (
    ConfigError,
    CrmError,
    CrmNotFoundError,
    CrmRejectedError,
)
from ...http import (
    as_form_text,
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
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import missing_caller_types, search_by_id, search_each
from ...record_write import write_in_turn
from ...registry import AdapterContext, register
from .connection import ServiceNowConnection
from .query import (
    QueryValueError,
    check_table,
    dynamic_query,
    email_query,
    in_query,
    is_sys_id,
    name_query,
    order_by_desc,
    phone_query,
    term,
    timeline_marker,
    timeline_text,
)
from .settings import ServiceNowSettings
from .wire import (
    _FIELDS_TTL,
    DEFAULT_FIELDS,
    EMAIL_FIELDS,
    INTERACTION_PERSON_FIELD,
    NAME_FIELDS,
    PARENT_FIELDS,
    PERSON_TABLES,
    PHONE_FIELDS,
    STANDARD_TABLES,
    _parse_time,
    field_info,
    policy_field,
    record_title,
)

__all__ = ["ServiceNowAdapter"]

# a write's reply: the sys_id alone (the record is not read back)
_ID_ONLY = {"sysparm_fields": "sys_id", "sysparm_exclude_reference_link": "true"}


def _record_table(record_type: str, record_id: str) -> str:
    """The checked table of a record addressed by sys_id (anything else is no record)."""
    table = check_table(record_type)
    if not is_sys_id(record_id):
        raise CrmNotFoundError(f"{record_id!r} is not a ServiceNow sys_id")
    return table


class ServiceNowAdapter(ServiceNowConnection):
    """``CrmAdapter`` for ServiceNow."""

    # --- search -------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        if isinstance(query, DynamicSearch):
            return await self._dynamic(query)

        async def one(table: str, remaining: int) -> list[CrmRecord]:
            check_table(table)
            try:
                if isinstance(query, PhoneSearch):
                    return await self._phone(table, query.number, remaining)
                if isinstance(query, EmailSearch):
                    encoded = email_query(query.email, EMAIL_FIELDS.get(table, ()))
                else:
                    first, last, whole = NAME_FIELDS.get(table, (None, None, None))
                    encoded = name_query(query.text, first, last, whole)
                return await self._list(table, encoded, remaining) if encoded else []
            except QueryValueError:
                # Input a query cannot carry (for example '^'): nothing is searched, so
                # nothing more than asked can ever be found.
                return []

        return await search_each(
            query.record_types or self._settings.caller_tables, query.limit, one
        )

    async def _phone(self, table: str, number: str, limit: int) -> list[CrmRecord]:
        fields = PHONE_FIELDS.get(table)
        if fields is None:
            fields = tuple(
                f.name for f in await self.list_fields(table) if f.type == FieldType.PHONE
            )
        variants = phone_variants(number, self._region)
        national = ""
        if variants.e164:
            national = phonenumbers.national_significant_number(phonenumbers.parse(variants.e164))
        tail = (national or "".join(ch for ch in number if ch.isdigit()))[-4:]
        encoded = phone_query(variants, tail, fields)
        if not encoded:
            return []

        def same_number(record: CrmRecord) -> bool:
            numbers = (record.fields.get(f) for f in fields)
            return any_stored_number_matches(numbers, variants, self._region)

        return await self._list(table, encoded, limit, accept=same_number)

    async def _dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        table = check_table(query.record_type)
        encoded = dynamic_query(query.conditions, query.join)
        # An unknown field would be dropped by ServiceNow and widen the search: refuse it.
        known = {f.name for f in await self.list_fields(table)}
        for condition in query.conditions:
            if condition.field.split(".")[0] not in known:
                raise CrmRejectedError(
                    f"{table} has no field {condition.field!r}", field=condition.field
                )
        if encoded is None:
            return []
        return await self._list(table, encoded, query.limit)

    # --- records ------------------------------------------------------------------------

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        table = _record_table(record_type, record_id)
        response = await self._call(
            "GET", f"{self._table_base}/{table}/{record_id}", params=self._fields_param(table)
        )
        return self._record(table, response.json()["result"])

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """People: others of the same company, then their incidents/cases (settings
        ``related_tables``). Task records: the person they belong to."""
        table = check_table(record.type)
        found: list[CrmRecord] = []
        if table in PERSON_TABLES:
            company = record.fields.get("company")
            if isinstance(company, str) and is_sys_id(company):
                peers = f"{term('company', '=', company)}^{term('sys_id', '!=', record.id)}"
                found += await self._list(table, peers, limit)
            for other, link in self._settings.related:
                encoded = order_by_desc(term(link, "=", record.id), "sys_updated_on")
                found += await self._list(other, encoded, limit)
        else:
            for parent_table, parent_id in record.parent_ids.items():
                if parent_table in PERSON_TABLES:
                    try:
                        found.append(await self.get(parent_table, parent_id))
                    except CrmNotFoundError:
                        continue
        return found[:limit]

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        table = check_table(record_type)
        url = f"{self._table_base}/{table}"
        response = await self._send_values("POST", url, table, fields, self._fields_param(table))
        return self._record(table, response.json()["result"])

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        table = _record_table(record_type, record_id)
        response = await self._patch(table, record_id, fields, self._fields_param(table))
        return self._record(table, response.json()["result"])

    async def _patch(
        self,
        table: str,
        record_id: str,
        values: Mapping[str, FieldValue],
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """``PATCH /api/now/table/{table}/{sys_id}`` (Table API "Modify a record"): the values,
        where a journal field's value (``work_notes``) adds a journal entry. Without
        ``params`` the reply carries the sys_id alone: the record is not read back."""
        url = f"{self._table_base}/{table}/{record_id}"
        return await self._send_values("PATCH", url, table, values, params or _ID_ONLY)

    async def _send_values(
        self,
        method: str,
        url: str,
        table: str,
        values: Mapping[str, FieldValue],
        params: Mapping[str, str],
    ) -> httpx.Response:
        """A create or update; a data policy's refusal comes back naming the field."""
        try:
            return await self._call(
                method, url, params=params, json={k: as_form_text(v) for k, v in values.items()}
            )
        except CrmRejectedError as error:
            field = await self._refused_field(error, table, values)
            if field is None:
                raise
            raise CrmRejectedError(
                error.detail,
                field=field,
                vendor_status=error.vendor_status,
                vendor_message=error.vendor_message,
            ) from error

    async def _refused_field(
        self, error: CrmRejectedError, table: str, values: Mapping[str, FieldValue]
    ) -> str | None:
        """The field a data policy exception names by its label, found in the table's
        dictionary (cached; read only when a refusal names a label). ``None`` when the
        refusal names none or the dictionary cannot be read now."""
        message = error.vendor_message or ""
        if error.field or "Data Policy Exception" not in message:
            return None
        try:
            labels = {f.name: f.label for f in await self.list_fields(table)}
        except CrmError:
            return None
        return policy_field(message, labels, values)

    # --- timeline -----------------------------------------------------------------------

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """One ``PATCH`` where the record's table has a journal: the values and the work
        note (Table API "Modify a record"; the journal field takes the text as a new entry).
        Other records (people): the values' ``PATCH``, then an interaction record. The key is
        looked up in the journal first only when an earlier attempt may have sent it.

        A work note written here is named by the record's sys_id (``TimelineRef.id``): the
        entry's own sys_id would take a second request to read, and a retry that finds the
        entry names it the same way."""
        activity = write.activity
        if activity is None or (activity.record_type, activity.record_id) != (
            write.record_type,
            write.record_id,
        ):
            return await write_in_turn(write, self._patch_values, self._add_activity)
        table = _record_table(write.record_type, write.record_id)
        entry = None
        if write.activity_may_exist:
            entry = await self._journal_entry(*self._activity_query(activity, table))
        values = dict(write.fields)
        if table not in self._settings.journals:
            if values:
                await self._patch(table, write.record_id, values)
            if entry:
                return TimelineRef(
                    id=entry["element_id"], type=self._settings.timeline_table, created=False
                )
            return await self._new_interaction(activity, table)
        journal = self._settings.journal_field
        if entry is None:
            if journal in values:  # a value of the journal itself: its own entry first
                await self._patch(table, write.record_id, values)
                values = {}
            values[journal] = timeline_text(activity)
        if values:
            await self._patch(table, write.record_id, values)
        return TimelineRef(id=write.record_id, type=journal, created=entry is None)

    async def _patch_values(
        self, record_type: str, record_id: str, values: Mapping[str, FieldValue]
    ) -> None:
        await self._patch(_record_table(record_type, record_id), record_id, values)

    async def _add_activity(self, activity: TimelineActivity, look_up: bool) -> TimelineRef:
        return await self.add_timeline(activity)  # add_timeline always looks the key up

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """Task records (incident, case, ...) get a work note; other records (people) get
        an ``interaction`` record with the text as its work note. Either way the entry ends
        with a marker line derived from the key, and the journal (``sys_journal_field``) is
        searched for it first, which reads the database and does not lag."""
        table = _record_table(activity.record_type, activity.record_id)
        where, ref = self._activity_query(activity, table)
        entry = await self._journal_entry(where, ref)
        journal = self._settings.journal_field
        if table in self._settings.journals:
            if entry:
                return TimelineRef(id=entry["sys_id"], type=journal, created=False)
            await self._patch(table, activity.record_id, {journal: timeline_text(activity)})
            entry = await self._journal_entry(where, ref)
            return TimelineRef(
                id=entry["sys_id"] if entry else activity.record_id, type=journal, created=True
            )
        if entry:
            return TimelineRef(
                id=entry["element_id"], type=self._settings.timeline_table, created=False
            )
        return await self._new_interaction(activity, table)

    def _activity_query(self, activity: TimelineActivity, table: str) -> tuple[str, str]:
        """(encoded query, marker reference) finding the activity's journal entry: on the
        record itself, or on an interaction record for tables without a journal."""
        ref = timeline_marker(activity.key).split()[-1].rstrip("]")
        marker = term("value", "LIKE", ref)
        journal = term("element", "=", self._settings.journal_field)
        if table in self._settings.journals:
            return "^".join([term("element_id", "=", activity.record_id), journal, marker]), ref
        return "^".join([term("name", "=", self._settings.timeline_table), journal, marker]), ref

    async def _new_interaction(self, activity: TimelineActivity, table: str) -> TimelineRef:
        target = self._settings.timeline_table
        journal = self._settings.journal_field
        created = await self.create(target, self._interaction(activity, table, journal))
        return TimelineRef(id=created.id, type=target, created=True)

    def _interaction(
        self, activity: TimelineActivity, table: str, journal: str
    ) -> dict[str, FieldValue]:
        fields: dict[str, FieldValue] = {
            "type": "phone" if activity.channel == "voice" else "chat",
            "state": "closed_complete",
            "short_description": activity.subject[:160],
            journal: timeline_text(activity),
            "context_table": table,
            "context_document": activity.record_id,
        }
        person_field = INTERACTION_PERSON_FIELD.get(table)
        if person_field:
            fields[person_field] = activity.record_id
        return fields

    async def _journal_entry(self, where: str, ref: str) -> dict[str, Any] | None:
        """The journal entry carrying ``ref``, re-checked on the reply: an entry without it
        (a wrong reply) must not count as written, or the activity is silently dropped."""
        fields = {"sysparm_fields": "sys_id,element_id,name,value"}
        rows = await self._rows("sys_journal_field", where, 10, fields)
        return next((row for row in rows if ref in str(row.get("value") or "")), None)

    # --- metadata -----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        encoded = f"{in_query('name', STANDARD_TABLES)}^NQnameSTARTSWITHu"
        rows = await self._rows("sys_db_object", encoded, 200, {"sysparm_fields": "name,label"})
        return [
            RecordType(
                name=row["name"],
                label=row.get("label") or row["name"],
                standard=not row["name"].startswith("u_"),
                supports_timeline=True,
            )
            for row in rows
            if row["name"] in STANDARD_TABLES or row["name"].startswith("u_")
        ]

    async def _hierarchy(self, table: str) -> list[str]:
        """``table`` and its parents (fields of ``incident`` are defined on ``task``)."""
        rows = await self._rows(
            "sys_db_object",
            term("name", "=", table),
            1,
            {"sysparm_fields": "name,super_class", "sysparm_exclude_reference_link": "true"},
        )
        if not rows:
            raise CrmNotFoundError(f"ServiceNow has no table {table!r}")
        chain = [table]
        parent = rows[0].get("super_class")
        while isinstance(parent, str) and is_sys_id(parent) and len(chain) < 8:
            response = await self._call(
                "GET",
                f"{self._table_base}/sys_db_object/{parent}",
                params={
                    "sysparm_fields": "name,super_class",
                    "sysparm_exclude_reference_link": "true",
                },
            )
            row = response.json()["result"]
            chain.append(str(row["name"]))
            parent = row.get("super_class")
        return chain

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        table = check_table(record_type)
        cached = self._fields.get(table)
        if cached and time.monotonic() - cached[0] < _FIELDS_TTL:
            return cached[1]
        chain = await self._hierarchy(table)
        encoded = f"{in_query('name', chain)}^elementISNOTEMPTY^active=true"
        rows = await self._rows(
            "sys_dictionary",
            encoded,
            1000,
            {
                "sysparm_fields": "name,element,column_label,internal_type,max_length,mandatory,"
                "read_only,reference,choice",
                "sysparm_exclude_reference_link": "true",
            },
        )
        rank = {name: i for i, name in enumerate(chain)}
        rows.sort(key=lambda row: rank.get(str(row.get("name")), 99))  # child wins
        fields: dict[str, FieldInfo] = {}
        for row in rows:
            if row.get("element") and row["element"] not in fields:
                fields[row["element"]] = field_info(row)
        result = list(fields.values())
        self._fields[table] = (time.monotonic(), result)
        return result

    def record_url(self, record_type: str, record_id: str) -> str:
        inner = quote(f"{record_type}.do?sys_id={record_id}", safe="")
        return f"{self._settings.ui_base}/nav_to.do?uri={inner}"

    async def check(self) -> list[str]:
        await self._hierarchy("sys_user")
        return await missing_caller_types(
            "caller_tables", self._settings.caller_tables, self._hierarchy
        )

    async def aclose(self) -> None:
        await self._tokens.aclose()

    def _record(self, table: str, row: Mapping[str, Any]) -> CrmRecord:
        fields = {
            k: v for k, v in row.items() if isinstance(v, str | int | float | bool) or v is None
        }
        record_id = str(row["sys_id"])
        parents = {
            PARENT_FIELDS[k]: str(v)
            for k, v in fields.items()
            if k in PARENT_FIELDS and isinstance(v, str) and is_sys_id(v)
        }
        return CrmRecord(
            type=table,
            id=record_id,
            title=record_title(table, fields, record_id),
            url=self.record_url(table, record_id),
            fields=fields,
            updated_at=_parse_time(row.get("sys_updated_on")),
            parent_ids=parents,
        )

    def _fields_param(self, table: str) -> dict[str, str]:
        params = {"sysparm_exclude_reference_link": "true", "sysparm_display_value": "false"}
        if table in DEFAULT_FIELDS:
            params["sysparm_fields"] = ",".join(DEFAULT_FIELDS[table])
        return params

    async def _list(
        self, table: str, query: str, limit: int, accept: Callable[[CrmRecord], bool] | None = None
    ) -> list[CrmRecord]:
        keep = None if accept is None else (lambda row: accept(self._record(table, row)))
        rows = await self._rows(table, query, limit, self._fields_param(table), keep)
        return [self._record(table, row) for row in rows][:limit]


@register("servicenow", ServiceNowSettings)
def create_servicenow_adapter(
    context: AdapterContext, settings: ServiceNowSettings
) -> ServiceNowAdapter:
    """Factory for the registry: settings plus ``username``/``password`` and, for OAuth,
    ``client_id``/``client_secret``."""
    needed = ["username", "password"] + (
        ["client_id", "client_secret"] if settings.auth == "oauth" else []
    )
    missing = [name for name in needed if not context.secrets.get(name)]
    if missing:
        raise ConfigError(f"ServiceNow needs the secret {missing[0]}", field=missing[0])
    return ServiceNowAdapter(
        settings,
        context.secrets,
        context.http,
        label=context.label,
        default_region=context.default_phone_region,
        on_token_refresh=context.extra.get("on_token_refresh"),
    )
