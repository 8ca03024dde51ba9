"""HubSpot CRM adapter: v3 objects API (or a dated version such as ``2026-03``), v4
associations, properties API for metadata, call engagements for the timeline.

Auth is a private-app token or service key (a static bearer token without expiry). It goes
through ``TokenManager`` like every other CRM so the request path is the same; a ``401``
cannot be cured by refreshing a static token and is reported as ``CrmAuthError``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import phonenumbers

from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmNotFoundError,
    CrmRejectedError,
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
    SearchQuery,
)
from ...phone import any_stored_number_matches, phone_variants
from ...protocol import search_by_id, search_each
from ...registry import AdapterContext, register
from .query import (
    FilterGroup,
    check_object_type,
    dynamic_filter_groups,
    email_filter_groups,
    is_record_id,
    name_filter_groups,
    phone_filter_groups,
    search_body,
)
from .settings import HubSpotSettings
from .timeline import HubSpotTimeline
from .wire import (
    _FIELDS_TTL,
    _MAX_PAGES,
    EMAIL_PROPERTIES,
    MISSING_TIMELINE_KEY,
    NAME_PROPERTIES,
    OBJECT_TYPE_IDS,
    PHONE_CALCULATED_PROPERTIES,
    PHONE_TEXT_PROPERTIES,
    RELATED_TYPES,
    REQUIRED_PROPERTIES,
    STANDARD_TYPES,
    TIMELINE_KEY,
    _parse_time,
    field_info,
    properties_body,
)

__all__ = ["HubSpotAdapter"]

log = logging.getLogger(__name__)


class HubSpotAdapter(HubSpotTimeline):
    """``CrmAdapter`` for HubSpot."""

    # --- search -------------------------------------------------------------------------

    async def search(self, query: SearchQuery) -> list[CrmRecord]:
        if isinstance(query, IdSearch):
            return await search_by_id(self, query)
        if isinstance(query, DynamicSearch):
            return await self._dynamic(query)

        async def one(object_type: str, remaining: int) -> list[CrmRecord]:
            if not await self._has_type(check_object_type(object_type)):
                raise CrmNotFoundError(f"HubSpot has no object type {object_type!r}")
            if isinstance(query, PhoneSearch):
                return await self._phone(object_type, query.number, remaining)
            if isinstance(query, EmailSearch):
                groups = email_filter_groups(query.email, EMAIL_PROPERTIES.get(object_type, ()))
            else:
                first, last, whole = NAME_PROPERTIES.get(object_type, (None, None, None))
                groups = name_filter_groups(query.text, first, last, whole)
            return await self._search(object_type, groups, remaining)

        types = query.record_types or self._settings.caller_types
        return await search_each(types, query.limit, one)

    async def _has_type(self, object_type: str) -> bool:
        """Whether the account has the type: standard ones always, custom ones when their
        schema is listed (the list is read again for an unknown type, at most once a second)."""
        if object_type in STANDARD_TYPES or object_type in self._types[1]:
            return True
        if time.monotonic() - self._types[0] > 1.0:  # at most one read a second for misses
            self._types = (time.monotonic(), {t.name for t in await self.list_record_types()})
        return object_type in self._types[1]

    async def _phone(self, object_type: str, number: str, limit: int) -> list[CrmRecord]:
        text_fields = PHONE_TEXT_PROPERTIES.get(object_type)
        if text_fields is None:
            text_fields = tuple(
                f.name for f in await self.list_fields(object_type) if f.type == FieldType.PHONE
            )
        variants = phone_variants(number, self._region)
        national = None
        if variants.e164:  # HubSpot's calculated properties hold the number without country
            national = phonenumbers.national_significant_number(phonenumbers.parse(variants.e164))
        groups = phone_filter_groups(
            variants, national, text_fields, PHONE_CALCULATED_PROPERTIES.get(object_type, ())
        )

        def same_number(record: CrmRecord) -> bool:
            numbers = (record.fields.get(f) for f in text_fields)
            return any_stored_number_matches(numbers, variants, self._region)

        return await self._search(object_type, groups, limit, accept=same_number)

    async def _dynamic(self, query: DynamicSearch) -> list[CrmRecord]:
        object_type = check_object_type(query.record_type)
        groups = dynamic_filter_groups(query.conditions, query.join)
        known = {f.name for f in await self.list_fields(object_type)}
        for condition in query.conditions:
            if condition.field not in known:
                raise CrmRejectedError(
                    f"{object_type} has no property {condition.field!r}", field=condition.field
                )
        return await self._search(object_type, groups, query.limit)

    async def _search(
        self,
        object_type: str,
        groups: list[FilterGroup],
        limit: int,
        accept: Callable[[CrmRecord], bool] | None = None,
    ) -> list[CrmRecord]:
        """Follow ``paging.next.after`` until ``limit`` accepted records or the end."""
        if not groups or limit <= 0:
            return []
        found: list[CrmRecord] = []
        after: str | None = None
        page_size = limit if accept is None else max(limit, 20)
        for _ in range(_MAX_PAGES):
            body = search_body(groups, self._properties(object_type), page_size, after)
            data = await self._call("POST", self._paths.search(object_type), json=body)
            for raw in data.get("results") or []:
                record = self._record(object_type, raw)
                if accept is None or accept(record):
                    found.append(record)
                    if len(found) >= limit:
                        return found
            after = ((data.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        return found

    # --- records ------------------------------------------------------------------------

    async def get(self, record_type: str, record_id: str) -> CrmRecord:
        check_object_type(record_type)
        if not is_record_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a HubSpot record id")
        data = await self._call(
            "GET",
            self._paths.record(record_type, record_id),
            params={"properties": ",".join(self._properties(record_type))},
        )
        return self._record(record_type, data)

    async def _batch_read(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        if not ids:
            return []
        body = {"inputs": [{"id": i} for i in ids], "properties": self._properties(object_type)}
        data = await self._call("POST", self._paths.batch_read(object_type), json=body)
        return [self._record(object_type, raw) for raw in data.get("results") or []]

    async def _associated_ids(self, object_type: str, record_id: str, to_type: str) -> list[str]:
        data = await self._call(
            "GET", self._paths.associations(object_type, record_id, to_type), params={"limit": 100}
        )
        return [str(item["toObjectId"]) for item in data.get("results") or []]

    async def related(self, record: CrmRecord, limit: int = 10) -> list[CrmRecord]:
        """Contacts: their companies, the companies' other contacts, their tickets and
        deals. Companies: contacts, tickets, deals. Tickets and deals: contacts, companies.
        The associations of every related type are asked for at once, then their records
        and a contact's companies' contacts at once: three round trips to HubSpot, not one
        per request (the card waits for them)."""
        check_object_type(record.type)
        to_types = RELATED_TYPES.get(record.type, ())
        id_lists = await asyncio.gather(
            *(self._associated_ids(record.type, record.id, to_type) for to_type in to_types)
        )
        companies = [
            ids for to_type, ids in zip(to_types, id_lists, strict=True) if to_type == "companies"
        ]
        company_ids = companies[0][:2] if companies and record.type == "contacts" else []
        by_type, peer_lists = await asyncio.gather(
            asyncio.gather(
                *(
                    self._batch_read(to_type, ids[:limit])
                    for to_type, ids in zip(to_types, id_lists, strict=True)
                )
            ),
            asyncio.gather(
                *(self._associated_ids("companies", c, "contacts") for c in company_ids)
            ),
        )
        peers = await asyncio.gather(
            *(
                self._batch_read("contacts", [i for i in ids if i != record.id][:limit])
                for ids in peer_lists
            )
        )
        found: list[CrmRecord] = []
        seen = {(record.type, record.id)}
        for to_type, items in zip(to_types, by_type, strict=True):
            extra = [p for group in peers for p in group] if to_type == "companies" else []
            for item in [*items, *extra]:  # the order one request after another gave
                if (item.type, item.id) not in seen:
                    seen.add((item.type, item.id))
                    found.append(item)
        return found[:limit]

    async def create(self, record_type: str, fields: Mapping[str, FieldValue]) -> CrmRecord:
        check_object_type(record_type)
        body = properties_body(fields)
        data = await self._call("POST", self._paths.objects(record_type), json=body)
        return await self.get(record_type, str(data["id"]))

    async def update(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> CrmRecord:
        await self._patch(check_object_type(record_type), record_id, fields)
        return await self.get(record_type, record_id)

    # --- metadata -----------------------------------------------------------------------

    async def list_record_types(self) -> list[RecordType]:
        types = [RecordType(name=name, label=label) for name, label in STANDARD_TYPES.items()]
        try:
            data = await self._call("GET", self._paths.schemas())
        except CrmRejectedError as exc:  # token without crm.schemas.custom.read
            log.warning("HubSpot custom object schemas not readable: %s", exc.detail)
            return types
        for schema in data.get("results") or []:
            labels = schema.get("labels") or {}
            types.append(
                RecordType(
                    name=str(schema.get("objectTypeId") or schema.get("name")),
                    label=str(labels.get("singular") or schema.get("name")),
                    standard=False,
                )
            )
        return types

    async def list_fields(self, record_type: str) -> list[FieldInfo]:
        check_object_type(record_type)
        cached = self._fields.get(record_type)
        if cached and time.monotonic() - cached[0] < _FIELDS_TTL:
            return cached[1]
        data = await self._call("GET", self._paths.properties(record_type))
        required = REQUIRED_PROPERTIES.get(record_type, frozenset())
        fields = [
            field_info(raw, required)
            for raw in data.get("results") or []
            if not raw.get("hidden") and not raw.get("archived")
        ]
        self._fields[record_type] = (time.monotonic(), fields)
        return fields

    def record_url(self, record_type: str, record_id: str) -> str:
        type_id = OBJECT_TYPE_IDS.get(record_type, record_type)
        return (
            f"https://{self._settings.portal_domain}/contacts/{self._settings.account_id}"
            f"/record/{type_id}/{record_id}"
        )

    async def check(self) -> list[str]:
        data = await self._call("GET", self._paths.account_details())
        portal = str(data.get("portalId") or "")
        if portal and portal != self._settings.account_id:
            raise CrmAuthError(
                f"The access token belongs to HubSpot account {portal}, "
                f"not {self._settings.account_id}"
            )
        self._fields.pop("calls", None)  # the configuration test reads the account afresh
        calls = {field.name for field in await self.list_fields("calls")}
        return [] if TIMELINE_KEY in calls else [MISSING_TIMELINE_KEY]

    async def aclose(self) -> None:
        await self._tokens.aclose()

    def _record(self, object_type: str, raw: Mapping[str, Any]) -> CrmRecord:
        props: dict[str, Any] = dict(raw.get("properties") or {})
        record_id = str(raw["id"])
        parents = {}
        if props.get("associatedcompanyid"):
            parents["companies"] = str(props["associatedcompanyid"])
        return CrmRecord(
            type=object_type,
            id=record_id,
            title=self._title(object_type, props, record_id),
            url=self.record_url(object_type, record_id),
            fields=props,
            updated_at=_parse_time(raw.get("updatedAt")),
            parent_ids=parents,
        )

    @staticmethod
    def _title(object_type: str, props: Mapping[str, Any], record_id: str) -> str:
        first, last, whole = NAME_PROPERTIES.get(object_type, (None, None, "name"))
        if first and last:
            name = " ".join(str(props.get(p) or "").strip() for p in (first, last)).strip()
            if name:
                return name
            return str(props.get("email") or f"{object_type} {record_id}")
        return str(props.get(whole or "name") or f"{object_type} {record_id}")


@register("hubspot", HubSpotSettings)
def create_hubspot_adapter(context: AdapterContext, settings: HubSpotSettings) -> HubSpotAdapter:
    """Factory for the registry: the validated settings and the ``access_token`` secret."""
    token = context.secrets.get("access_token", "")
    if not token:
        raise ConfigError(
            "HubSpot needs an access_token (private app token or service key)", field="access_token"
        )
    return HubSpotAdapter(
        settings,
        token,
        context.http,
        label=context.label,
        default_region=context.default_phone_region,
    )
