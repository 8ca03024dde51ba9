"""An Oracle B2C Service record's values and its timeline: the ``PATCH`` of a record (not
read back), a memorialization job's write (an incident's values and thread entry in one
``PATCH``) and timeline activities, linked once each (a task or a thread entry found by its
key's marker)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...activity_text import activity_marker
from ...models import RecordWrite, TimelineActivity, TimelineRef
from . import query as oq
from .connection import OracleConnection
from .wire import check_id, record_payload, task_body, thread_entry, type_spec

__all__ = ["OracleTimeline"]


class OracleTimeline(OracleConnection):
    """The connection plus a record's update and its timeline activities."""

    async def _patch(self, record_type: str, record_id: str, body: Mapping[str, Any]) -> None:
        """``PATCH /{collection}/{id}``: Oracle answers 200 without a body, nothing is read."""
        spec = type_spec(record_type)
        await self._call("PATCH", f"{spec.collection}/{check_id(record_id)}", json=body)

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """An incident takes its values and the thread entry in ONE ``PATCH /incidents/{id}``
        (REST API for Oracle B2C Service, "Update an incident": ``threads`` in the body adds
        an entry); the reply has no body, so the ref names the incident. A contact or
        organization: the ``PATCH`` (not read back), then ``POST /tasks``. Connect REST has
        no batch resource ("Perform Batch Actions" with ``parts`` is Oracle's Fusion
        Applications API). The key is looked up first only on a retry."""
        body = record_payload(write.record_type, write.fields)
        activity = write.activity
        if activity is None:
            if body:
                await self._patch(write.record_type, write.record_id, body)
            return None
        check_id(activity.record_id)
        marker = activity_marker(activity.key)
        if activity.record_type != "incident":
            task = await self._task_with(activity, marker) if write.activity_may_exist else None
            if body:
                await self._patch(write.record_type, write.record_id, body)
            return task or await self._create_task(activity)
        found = None
        if write.activity_may_exist:
            found = await self._thread_with(activity.record_id, marker)
        entries = [] if found is not None else [thread_entry(activity)]
        if (write.record_type, write.record_id) == ("incident", activity.record_id):
            body["threads"] = [*body.get("threads", []), *entries]  # one request for both
            entries = []
        if body:
            await self._patch(write.record_type, write.record_id, body)
        if entries:
            await self._patch("incident", activity.record_id, {"threads": entries})
        if found is not None:
            return TimelineRef(id=found, type="thread", created=False)
        return TimelineRef(id=activity.record_id, type="thread")

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        check_id(activity.record_id)
        marker = activity_marker(activity.key)
        if activity.record_type == "incident":
            return await self._add_thread(activity, marker)
        return await self._task_with(activity, marker) or await self._create_task(activity)

    async def _task_with(self, activity: TimelineActivity, marker: str) -> TimelineRef | None:
        """An earlier task of the record whose comments carry ``marker``."""
        task_body(activity)  # checks the target type
        where = f"{activity.record_type}.id = {activity.record_id}"
        statement = oq.select("tasks", ["id", "comments"], where)
        data = await self._call("GET", "queryResults", params={"query": statement})
        for task_id, comments in (data.get("items") or [{}])[0].get("rows") or []:
            if marker in str(comments or ""):
                return TimelineRef(id=str(task_id), type="task", created=False)
        return None

    async def _create_task(self, activity: TimelineActivity) -> TimelineRef:
        created = await self._call("POST", "tasks", json=task_body(activity))
        return TimelineRef(id=str(created["id"]), type="task")

    async def _thread_with(self, incident_id: str, marker: str) -> str | None:
        statement = oq.select("incidents", ["threads.id", "threads.text"], f"id = {incident_id}")
        data = await self._call("GET", "queryResults", params={"query": statement})
        for thread_id, text in (data.get("items") or [{}])[0].get("rows") or []:
            if marker in str(text or ""):
                return str(thread_id)
        return None

    async def _add_thread(self, activity: TimelineActivity, marker: str) -> TimelineRef:
        found = await self._thread_with(activity.record_id, marker)
        if found is not None:
            return TimelineRef(id=found, type="thread", created=False)
        entry = thread_entry(activity)
        await self._call("PATCH", f"incidents/{activity.record_id}", json={"threads": [entry]})
        return TimelineRef(
            id=await self._thread_with(activity.record_id, marker) or activity.record_id,
            type="thread",
        )
