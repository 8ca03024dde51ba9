"""Dynamics 365 / Dataverse adapter: the Web API (OData v4) over ``httpx``.

Tokens come from Microsoft Entra ID with the client credentials grant through MSAL's
``ConfidentialClientApplication`` (run in a worker thread: MSAL's HTTP calls block), or,
when a ``token_url`` is configured, from a plain form POST to that endpoint. The token's
``expires_in`` drives the background refresh; a ``401`` mints once more and retries.
Filters are built by the pure functions in ``query.py``; the organization's metadata is
read by ``metadata.py``, a job's write and the timeline go through ``timeline.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from ...errors import (
    CrmNotFoundError,
    CrmRejectedError,
)
from ...models import (
    CrmRecord,
    DynamicSearch,
    EmailSearch,
    FieldValue,
    IdSearch,
    PhoneSearch,
    SearchQuery,
)
from ...phone import phone_variants
from ...protocol import search_by_id, search_each
from ...registry import AdapterContext, register
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
from .timeline import DynamicsTimeline
from .wire import (
    _ANNOTATIONS,
    _LOOKUP_TYPE,
    _SYSTEM_LOOKUPS,
    VENDOR,
    Table,
    _json,
    _parse_datetime,
    missing_table_settings,
    missing_table_warning,
    phone_matches,
)

__all__ = ["DynamicsAdapter"]

_NAME_ONLY = {"$select": "LogicalName"}


class DynamicsAdapter(DynamicsTimeline):
    """``CrmAdapter`` for Dynamics 365 / Dataverse (Web API, configurable version)."""

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
