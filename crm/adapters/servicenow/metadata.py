"""What a ServiceNow instance's data dictionary says: its tables (``sys_db_object``), a
table's parents and its fields (``sys_dictionary``, cached for ``_FIELDS_TTL``). The
timeline's writes read it to name the field a data policy refuses; the adapter for its
metadata verbs and searches."""

from __future__ import annotations

import time

from ...errors import CrmNotFoundError
from ...models import FieldInfo, RecordType
from .connection import ServiceNowConnection
from .query import check_table, in_query, is_sys_id, term
from .wire import _FIELDS_TTL, STANDARD_TABLES, field_info

__all__ = ["ServiceNowMetadata"]


class ServiceNowMetadata(ServiceNowConnection):
    """The connection plus the instance's tables and their fields."""

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
