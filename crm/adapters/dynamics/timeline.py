"""A memorialization job's write and the timeline: the activity (phonecall or task) that
records an interaction on its regarding row, found again by its idempotency key, and sent
with the job's values in one ``$batch`` (``batch.py``'s wire format)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from ...errors import CrmNotFoundError, CrmUnavailableError
from ...models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from .batch import BatchOperation
from .metadata import DynamicsMetadata
from .query import contains, eq, is_guid
from .wire import VENDOR, Table, activity_payload, carries_key, created_id, key_marker

__all__ = ["DynamicsTimeline"]


class DynamicsTimeline(DynamicsMetadata):
    """``write_record`` and ``add_timeline``: the values' ``PATCH`` and the activity's create,
    one ``$batch`` or one request each."""

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
