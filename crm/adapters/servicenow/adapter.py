"""ServiceNow adapter: the ``CrmAdapter`` verbs over the Table API (``/api/now/table``):
search, records and related records, on top of the metadata and the timeline.

Auth is Basic (integration user) or OAuth: password grant once, then the refresh token,
both through ``TokenManager`` so tokens are refreshed in the background ahead of expiry; a
``401`` on an OAuth call drops the token and retries once with a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers

from ...errors import ConfigError, CrmNotFoundError, CrmRejectedError
from ...models import (
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldType,
    FieldValue,
    IdSearch,
    PhoneSearch,
    SearchQuery,
)
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import missing_caller_types, search_by_id, search_each
from ...registry import AdapterContext, register
from .query import (
    QueryValueError,
    check_table,
    dynamic_query,
    email_query,
    is_sys_id,
    name_query,
    order_by_desc,
    phone_query,
    record_table,
    term,
)
from .settings import ServiceNowSettings
from .timeline import ServiceNowTimeline
from .wire import (
    EMAIL_FIELDS,
    NAME_FIELDS,
    PERSON_TABLES,
    PHONE_FIELDS,
    fields_param,
    nav_url,
    parse_record,
)

__all__ = ["ServiceNowAdapter"]


class ServiceNowAdapter(ServiceNowTimeline):
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
        table = record_table(record_type, record_id)
        response = await self._call(
            "GET", f"{self._table_base}/{table}/{record_id}", params=fields_param(table)
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
        return self._record(record_type, await self._insert(record_type, fields))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        table = record_table(record_type, record_id)
        response = await self._patch(table, record_id, fields, fields_param(table))
        return self._record(table, response.json()["result"])

    # --- metadata -----------------------------------------------------------------------

    def record_url(self, record_type: str, record_id: str) -> str:
        return nav_url(self._settings.ui_base, record_type, record_id)

    async def check(self) -> list[str]:
        await self._hierarchy("sys_user")
        return await missing_caller_types(
            "caller_tables", self._settings.caller_tables, self._hierarchy
        )

    async def aclose(self) -> None:
        await self._tokens.aclose()

    def _record(self, table: str, row: Mapping[str, Any]) -> CrmRecord:
        return parse_record(table, row, self._settings.ui_base)

    async def _list(
        self, table: str, query: str, limit: int, accept: Callable[[CrmRecord], bool] | None = None
    ) -> list[CrmRecord]:
        keep = None if accept is None else (lambda row: accept(self._record(table, row)))
        rows = await self._rows(table, query, limit, fields_param(table), keep)
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
