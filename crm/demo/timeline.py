"""How the demo CRM records a timeline activity: a completed task linked to the record."""

from __future__ import annotations

import hashlib

from ..models import FieldValue, TimelineActivity

__all__ = ["task_fields", "stored_key"]

_KEY_LENGTH = 255


def stored_key(key: str) -> str:
    """The idempotency key as stored: as given, or a digest when it exceeds the column."""
    if len(key) <= _KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _clip(text: str | None, length: int) -> str | None:
    if not text:
        return None
    return text if len(text) <= length else text[: length - 1] + "…"


def _description(activity: TimelineActivity) -> str:
    lines = []
    if activity.notes:
        lines += [activity.notes, ""]
    if activity.started_at:
        lines.append(f"Started: {activity.started_at.isoformat()}")
    if activity.ended_at:
        lines.append(f"Ended: {activity.ended_at.isoformat()}")
    if activity.direction:
        lines.append(f"Direction: {activity.direction}")
    if activity.disposition:
        lines.append(f"Disposition: {activity.disposition}")
    return _clip("\n".join(lines).strip(), 32000) or ""


def task_fields(activity: TimelineActivity) -> dict[str, FieldValue]:
    """Task field values for an activity, clipped to the task type's field lengths."""
    when = activity.ended_at or activity.started_at
    return {
        "subject": _clip(activity.subject, 255) or "Interaction",
        "description": _description(activity) or None,
        "status": "Completed",
        "task_type": "Call" if activity.channel == "voice" else "Chat",
        "call_direction": activity.direction,
        "call_duration_seconds": activity.duration_seconds,
        "call_disposition": _clip(activity.disposition, 255),
        "agent_name": _clip(activity.agent_name, 120),
        "phone": _clip(activity.phone_number, 40),
        "due_date": when.date().isoformat() if when else None,
        "related_type": activity.record_type,
        "related_id": activity.record_id,
        "activity_key": stored_key(activity.key),
    }
