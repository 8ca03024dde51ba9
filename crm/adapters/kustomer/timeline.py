"""A Kustomer record's values and its timeline: the ``PATCH`` of a customer, company or
conversation (read first only to merge identifier lists), a memorialization job's write and
timeline activities, linked once each (a conversation found by its ``externalId``, a note by
its key's marker)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...activity_text import activity_marker, format_activity
from ...errors import CrmRejectedError
from ...models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from ...record_write import write_in_turn
from .connection import KustomerConnection
from .wire import _MAX_PAGES, LIST_FIELDS, NOTE_MAX, STR_MAX, attributes, check_id, record_path

__all__ = ["KustomerTimeline"]


class KustomerTimeline(KustomerConnection):
    """The connection plus a record's update and its timeline activities."""

    async def _raw(self, record_type: str, record_id: str) -> dict[str, Any]:
        path = record_path(record_type)
        data = await self._call("GET", self._url(f"{path}/{check_id(record_id)}"))
        return dict(data["data"])

    async def _list(self, path: str, limit: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"page": 1, "pageSize": min(100, max(limit, 1))}
        for _ in range(_MAX_PAGES):
            if url is None or len(items) >= limit:
                break
            data = await self._call("GET", url, params=params)
            items += data.get("data") or []
            url, params = self._next(data), None
        return items[:limit]

    async def _patch(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> dict[str, Any]:
        """``PATCH /v1/{type}s/{id}``. A PATCH replaces a customer's identifier lists
        (emails, phones, shared phones) as a whole, so the record is read first only when
        ``fields`` change one of them, to keep its other entries."""
        path = record_path(record_type)
        current: Mapping[str, Any] = {}
        if record_type == "customer" and LIST_FIELDS & set(fields):
            current = (await self._raw(record_type, record_id)).get("attributes") or {}
        body = attributes(record_type, fields, current)
        url = self._url(f"{path}/{check_id(record_id)}")
        data = await self._call("PATCH", url, json=body)
        return dict(data["data"])

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """The record's values (``PATCH``, read first only to merge identifier lists), then
        the activity: on a customer a conversation (``POST /v1/conversations``) and its note
        (``POST /v1/notes``), on a conversation a note. Kustomer has no request that updates
        a record and adds a note or conversation: a note belongs to a conversation and is
        created on its own (Kustomer API, "Create note": ``POST /v1/notes``); its bulk
        endpoints (``/v1/notes/bulk``, ``/v1/customers/bulk``) take one type each and run
        asynchronously. Three requests for a customer, two for a conversation. The key is
        looked up only when an earlier attempt may have sent the activity; a conversation
        created just now has no notes to look through."""
        return await write_in_turn(
            write,
            self._patch,
            lambda activity, look_up: self._add_activity(activity, look_up=look_up),
        )

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        return await self._add_activity(activity, look_up=True)

    async def _add_activity(self, activity: TimelineActivity, *, look_up: bool) -> TimelineRef:
        if activity.record_type == "conversation":
            conversation_id = check_id(activity.record_id)
            return await self._ensure_note(conversation_id, activity, look_up=look_up)
        if activity.record_type != "customer":
            raise CrmRejectedError(f"Kustomer cannot link an activity to {activity.record_type}")
        customer_id = check_id(activity.record_id)
        if look_up:
            for item in await self._list(f"customers/{customer_id}/conversations", 10_000):
                if (item.get("attributes") or {}).get("externalId") == activity.key:
                    await self._ensure_note(str(item["id"]), activity, look_up=True)
                    return TimelineRef(id=str(item["id"]), type="conversation", created=False)
        body = {
            "customer": customer_id,
            "name": activity.subject[:STR_MAX],
            "externalId": activity.key,
            "status": self._status,
            "direction": "in" if activity.direction == "inbound" else "out",
            "channels": ["voice" if activity.channel == "voice" else "chat"],
        }
        data = await self._call("POST", self._url("conversations"), json=body)
        conversation_id = str(data["data"]["id"])
        await self._ensure_note(conversation_id, activity, look_up=False)
        return TimelineRef(id=conversation_id, type="conversation")

    async def _ensure_note(
        self, conversation_id: str, activity: TimelineActivity, *, look_up: bool
    ) -> TimelineRef:
        if look_up:
            marker = activity_marker(activity.key)
            for note in await self._list(f"conversations/{conversation_id}/notes", 10_000):
                if marker in str((note.get("attributes") or {}).get("body") or ""):
                    return TimelineRef(id=str(note["id"]), type="note", created=False)
        data = await self._call(
            "POST",
            self._url("notes"),
            json={"body": format_activity(activity, NOTE_MAX), "conversation": conversation_id},
        )
        return TimelineRef(id=str(data["data"]["id"]), type="note")
