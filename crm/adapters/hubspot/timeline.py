"""What HubSpot is written: a record's values and its call engagements, one job at a time
(``write_record``) or many jobs at once (``write_records``, HubSpot's batch endpoints).

HubSpot has no request that takes a record's values and a call together: its batch
endpoints take many objects of ONE type. So one job is two requests (the values, then the
call with its association in the create body), and a batch of jobs is one ``batch/update``
per record type plus one ``batch/create`` of calls, however many jobs it carries (HubSpot
API reference: "Update a record", "Create calls", "Update a batch of records", "Create a
batch of calls").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import CrmError, CrmNotFoundError, CrmRejectedError
from ...models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from ...protocol import WriteOutcome
from ...record_write import write_each, write_in_turn
from .batch import BATCH_LIMIT, BatchInput, batch_body, batch_outcomes, update_input
from .connection import HubSpotConnection
from .query import any_of, check_object_type, eq, is_record_id, search_body
from .wire import TIMELINE_KEY, call_properties, properties_body

__all__ = ["HubSpotTimeline"]


class HubSpotTimeline(HubSpotConnection):
    async def _patch(
        self, object_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> None:
        """``PATCH /crm/v3/objects/{type}/{id}``: the record's new values, nothing read."""
        if not is_record_id(record_id):
            raise CrmNotFoundError(f"{record_id!r} is not a HubSpot record id")
        body = properties_body(fields)
        await self._call("PATCH", self._paths.record(object_type, record_id), json=body)

    # --- one job ------------------------------------------------------------------------

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """The record's values (not read back), then the call created with its
        association: two requests, one when there are no values. The call's key is looked
        up first only when an earlier attempt may have created it."""
        check_object_type(write.record_type)
        return await write_in_turn(
            write, self._patch, lambda activity, look_up: self._add_call(activity, look_up=look_up)
        )

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        """A call engagement associated with the record. The key is stored in
        ``hs_call_external_id`` and searched for first, so a retry finds the earlier call
        (HubSpot search lags a few seconds behind writes: see docs/crm-hubspot.md)."""
        return await self._add_call(activity, look_up=True)

    async def _add_call(self, activity: TimelineActivity, *, look_up: bool) -> TimelineRef:
        if look_up:
            found = (await self._calls_with_keys([activity.key])).get(activity.key)
            if found is not None:
                return found
        payload = await self._call_payload(activity)
        data = await self._call("POST", self._paths.objects("calls"), json=payload)
        return TimelineRef(id=str(data["id"]), type="calls", created=True)

    async def _call_payload(self, activity: TimelineActivity) -> dict[str, Any]:
        """A call's create body: its properties and its association with the record."""
        record_type = check_object_type(activity.record_type)
        if not is_record_id(activity.record_id):
            raise CrmNotFoundError(f"{activity.record_id!r} is not a HubSpot record id")
        type_id = await self._call_association_type(record_type)
        association = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
        return {
            "properties": call_properties(activity),
            "associations": [{"to": {"id": activity.record_id}, "types": [association]}],
        }

    async def _calls_with_keys(self, keys: Sequence[str]) -> dict[str, TimelineRef]:
        """Earlier call engagements carrying any of ``keys``, found by one search."""
        if not keys:
            return {}
        wanted = set(keys)
        key_filter = eq(TIMELINE_KEY, keys[0]) if len(keys) == 1 else any_of(TIMELINE_KEY, keys)
        body = search_body([{"filters": [key_filter]}], [TIMELINE_KEY], len(keys) * 2)
        existing = await self._call("POST", self._paths.search("calls"), json=body)
        found: dict[str, TimelineRef] = {}
        for raw in existing.get("results") or []:  # re-checked: one wrong reply drops nothing
            key = (raw.get("properties") or {}).get(TIMELINE_KEY)
            if key in wanted and key not in found:
                found[key] = TimelineRef(id=str(raw["id"]), type="calls", created=False)
        return found

    async def _call_association_type(self, record_type: str) -> int:
        if record_type not in self._call_types:
            data = await self._call("GET", self._paths.association_labels("calls", record_type))
            labels = data.get("results") or []
            default = [x for x in labels if x.get("category") == "HUBSPOT_DEFINED"] or labels
            if not default:
                raise CrmRejectedError(f"HubSpot cannot associate calls with {record_type}")
            self._call_types[record_type] = int(default[0]["typeId"])
        return self._call_types[record_type]

    # --- many jobs ----------------------------------------------------------------------

    @property
    def write_batch_limit(self) -> int:
        return BATCH_LIMIT

    async def write_records(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        """Many jobs' writes: one search for the keys of retried jobs' calls, one
        ``batch/update`` per record type, one ``batch/create`` of calls. A batch that HubSpot
        refuses as a whole (one invalid value refuses them all) is sent again one job at a
        time, so each job gets its own answer; a record named twice goes one at a time too."""
        if len(writes) < 2 or len({(w.record_type, w.record_id) for w in writes}) < len(writes):
            return await write_each(self.write_record, writes)
        try:
            return await self._write_batched(writes)
        except (CrmRejectedError, CrmNotFoundError):
            return await write_each(self.write_record, writes)

    async def _write_batched(self, writes: Sequence[RecordWrite]) -> list[WriteOutcome]:
        outcomes: dict[int, WriteOutcome] = {}
        updates: dict[str, list[BatchInput]] = {}
        for index, write in enumerate(writes):
            try:
                object_type = check_object_type(write.record_type)
                if not is_record_id(write.record_id):
                    raise CrmNotFoundError(f"{write.record_id!r} is not a HubSpot record id")
            except (CrmNotFoundError, CrmRejectedError) as exc:
                outcomes[index] = exc
                continue
            if write.fields:
                item = update_input(str(index), write.record_id, write.fields)
                updates.setdefault(object_type, []).append(item)
        for object_type, inputs in updates.items():
            reply = await self._call(
                "POST", self._paths.batch_update(object_type), json=batch_body(inputs)
            )
            for trace, result in batch_outcomes(reply, inputs).items():
                if isinstance(result, CrmError):
                    outcomes[int(trace)] = result
        retried = [
            w.activity.key
            for i, w in enumerate(writes)
            if i not in outcomes and w.activity is not None and w.activity_may_exist
        ]
        found = await self._calls_with_keys(retried)
        calls: list[BatchInput] = []
        for index, write in enumerate(writes):
            if index in outcomes:
                continue
            if write.activity is None:
                outcomes[index] = None
            elif write.activity.key in found:
                outcomes[index] = found[write.activity.key]
            else:
                payload = await self._call_payload(write.activity)
                calls.append(BatchInput(str(index), {**payload, "objectWriteTraceId": str(index)}))
        if calls:
            reply = await self._call(
                "POST", self._paths.batch_create("calls"), json=batch_body(calls)
            )
            for trace, result in batch_outcomes(reply, calls).items():
                outcomes[int(trace)] = (
                    result
                    if isinstance(result, CrmError)
                    else TimelineRef(id=str(result["id"]), type="calls", created=True)
                )
        return [outcomes[index] for index in range(len(writes))]
