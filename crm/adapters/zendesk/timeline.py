"""A Zendesk record's values and its timeline: the Update request of a user, organization
or ticket, a memorialization job's write (a ticket's values and internal note in one
``PUT``) and timeline activities, linked once each (a note found by its key's marker, a
ticket found by its ``external_id``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...activity_text import activity_marker
from ...errors import CrmRejectedError
from ...models import FieldValue, RecordWrite, TimelineActivity, TimelineRef
from ...record_write import write_in_turn
from .connection import ZendeskConnection
from .wire import activity_ticket, check_id, internal_note, record_path, record_payload

__all__ = ["ZendeskTimeline"]


class ZendeskTimeline(ZendeskConnection):
    """The connection plus a record's update and its timeline activities."""

    async def _put(
        self, record_type: str, record_id: str, fields: Mapping[str, FieldValue]
    ) -> dict[str, Any]:
        """``PUT /api/v2/{type}s/{id}`` (Update User / Organization / Ticket): the record as
        Zendesk answers it."""
        path = record_path(record_type)
        body = {record_type: record_payload(record_type, fields)}
        data = await self._call("PUT", self._url(f"{path}/{check_id(record_id)}"), json=body)
        return dict(data[record_type])

    async def write_record(self, write: RecordWrite) -> TimelineRef | None:
        """A ticket's values and the internal note in one ``PUT /api/v2/tickets/{id}``
        (Tickets API "Update Ticket": standard fields, ``custom_fields`` and ``comment`` with
        ``public: false``). A user or organization: its ``PUT``, then the ticket that records
        the activity (Zendesk has no request that does both). The key is looked up first only
        when an earlier attempt may have sent the activity."""
        activity = write.activity
        target = (write.record_type, write.record_id)
        on_the_ticket = (
            activity is not None and (activity.record_type, activity.record_id) == target
        )
        if activity is None or not on_the_ticket or write.record_type != "ticket":
            return await write_in_turn(write, self._put, self._add_activity)
        return await self._add_ticket_note(
            activity, look_up=write.activity_may_exist, values=write.fields
        )

    async def add_timeline(self, activity: TimelineActivity) -> TimelineRef:
        return await self._add_activity(activity, True)

    async def _add_activity(self, activity: TimelineActivity, look_up: bool) -> TimelineRef:
        """The activity linked once: a note on a ticket, else a ticket requested by the user
        (or organization) with the key as ``external_id``; looked up first when
        ``look_up``."""
        if activity.record_type == "ticket":
            return await self._add_ticket_note(activity, look_up=look_up)
        if activity.record_type not in ("user", "organization"):
            raise CrmRejectedError(f"Zendesk cannot link an activity to {activity.record_type}")
        owner = check_id(activity.record_id)
        if look_up:
            existing = await self._call(
                "GET", self._url("tickets"), params={"external_id": activity.key}
            )
            for found in existing.get("tickets") or []:  # re-checked: a wrong reply drops none
                if found.get("external_id") == activity.key:
                    return TimelineRef(id=str(found["id"]), type="ticket", created=False)
        ticket = activity_ticket(activity, owner, self._ticket_status)
        data = await self._call("POST", self._url("tickets"), json={"ticket": ticket})
        return TimelineRef(id=str(data["ticket"]["id"]), type="ticket")

    async def _add_ticket_note(
        self,
        activity: TimelineActivity,
        *,
        look_up: bool,
        values: Mapping[str, FieldValue] | None = None,
    ) -> TimelineRef:
        """The internal note on the ticket, sent with ``values`` in the same ``PUT``; a note
        found by its marker (when ``look_up``) is not sent again, the values still are."""
        ticket_id = check_id(activity.record_id)
        url = self._url(f"tickets/{ticket_id}")
        body = record_payload("ticket", values or {})
        if look_up:
            found = await self._find_note(ticket_id, activity_marker(activity.key))
            if found is not None:
                if body:
                    await self._call("PUT", url, json={"ticket": body})
                return found
        if "comment" in body:  # the values carry a comment of their own: it goes first
            await self._call("PUT", url, json={"ticket": body})
            body = {}
        body["comment"] = internal_note(activity)
        data = await self._call("PUT", url, json={"ticket": body})
        events = (data.get("audit") or {}).get("events") or []
        comment_ids = [str(e["id"]) for e in events if e.get("type") == "Comment"]
        return TimelineRef(id=comment_ids[0] if comment_ids else ticket_id, type="ticket_comment")

    async def _find_note(self, ticket_id: str, marker: str) -> TimelineRef | None:
        """The ticket's comment carrying ``marker`` (List Comments, cursor-paged)."""
        url: str | None = self._url(f"tickets/{ticket_id}/comments")
        params: dict[str, Any] | None = {"page[size]": 100}
        while url:
            data = await self._call("GET", url, params=params)
            for comment in data.get("comments") or []:
                if marker in str(comment.get("body") or ""):
                    return TimelineRef(id=str(comment["id"]), type="ticket_comment", created=False)
            has_more = (data.get("meta") or {}).get("has_more")
            url, params = ((data.get("links") or {}).get("next") if has_more else None), None
        return None
