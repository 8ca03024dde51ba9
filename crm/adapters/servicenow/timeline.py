"""A ServiceNow record's writes and its timeline: values sent with the Table API (a data
policy's refusal named by its field), a memorialization job's write (values and work note in
one ``PATCH``) and timeline activities (work notes, or ``interaction`` records for people),
each findable in the journal (``sys_journal_field``) by its key's marker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ...errors import CrmError, CrmRejectedError
from ...http import as_form_text
from ...models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from ...record_write import write_in_turn
from .metadata import ServiceNowMetadata
from .query import check_table, journal_query, record_table, timeline_text
from .wire import ID_ONLY, fields_param, interaction_fields, policy_field

__all__ = ["ServiceNowTimeline"]


class ServiceNowTimeline(ServiceNowMetadata):
    """The metadata plus the writes of values and of timeline activities."""

    # --- values -------------------------------------------------------------------------

    async def _insert(self, table: str, values: Mapping[str, FieldValue]) -> dict[str, Any]:
        """``POST /api/now/table/{table}`` (Table API "Create a record"): the new row."""
        url = f"{self._table_base}/{check_table(table)}"
        response = await self._send_values("POST", url, table, values, fields_param(table))
        return dict(response.json()["result"])

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
        return await self._send_values("PATCH", url, table, values, params or ID_ONLY)

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
        table = record_table(write.record_type, write.record_id)
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
        await self._patch(record_table(record_type, record_id), record_id, values)

    async def _add_activity(self, activity: TimelineActivity, look_up: bool) -> TimelineRef:
        return await self.add_timeline(activity)  # add_timeline always looks the key up

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """Task records (incident, case, ...) get a work note; other records (people) get
        an ``interaction`` record with the text as its work note. Either way the entry ends
        with a marker line derived from the key, and the journal (``sys_journal_field``) is
        searched for it first, which reads the database and does not lag."""
        table = record_table(activity.record_type, activity.record_id)
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
        owner = ("element_id", activity.record_id)
        if table not in self._settings.journals:
            owner = ("name", self._settings.timeline_table)
        return journal_query(activity.key, self._settings.journal_field, owner)

    async def _new_interaction(self, activity: TimelineActivity, table: str) -> TimelineRef:
        target = self._settings.timeline_table
        fields = interaction_fields(activity, table, self._settings.journal_field)
        created = await self._insert(target, fields)
        return TimelineRef(id=str(created["sys_id"]), type=target, created=True)

    async def _journal_entry(self, where: str, ref: str) -> dict[str, Any] | None:
        """The journal entry carrying ``ref``, re-checked on the reply: an entry without it
        (a wrong reply) must not count as written, or the activity is silently dropped."""
        fields = {"sysparm_fields": "sys_id,element_id,name,value"}
        rows = await self._rows("sys_journal_field", where, 10, fields)
        return next((row for row in rows if ref in str(row.get("value") or "")), None)
