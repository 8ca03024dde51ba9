"""The Dataverse organization's metadata as the adapter reads it (Microsoft Learn, "Query table
definitions using the Web API"): its tables, each table's columns as fields, and what the
adapter keeps of a table to address its rows (``Table``), cached per adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...models import FieldInfo, FieldType, RecordType
from .connection import DynamicsConnection
from .query import check_logical_name
from .wire import _DEFAULTED, _STRING_FORMATS, _TYPES, Table, _label

__all__ = ["DynamicsMetadata"]


class DynamicsMetadata(DynamicsConnection):
    """The organization's tables and columns (``EntityDefinitions``), read once per adapter."""

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
