"""The timeline activity written to each target record: a pure builder.

Each adapter turns the vendor-neutral ``TimelineActivity`` into its CRM's closest equivalent
(a Salesforce Task, a Dataverse phone call, a ServiceNow work note, ...).
"""

from __future__ import annotations

from typing import Any

from crm.models import TimelineActivity

from .snapshot import InteractionSnapshot, TargetRecord, source_values
from .triggers import excluded_sources
from .values import cut_text, format_value

__all__ = ["NOTES_MAX_LENGTH", "SUBJECT_MAX_LENGTH", "build_activity"]

# The smallest activity body among the supported CRMs (Dataverse task/phonecall description
# as shipped); longer notes are cut with the same visible marker as mapped fields.
NOTES_MAX_LENGTH = 2000
SUBJECT_MAX_LENGTH = 255


def _text(values: dict[str, Any], name: str) -> str | None:
    text = format_value(values.get(name))
    return text or None


def _subject(snapshot: InteractionSnapshot, values: dict[str, Any]) -> str:
    if snapshot.channel == "voice":
        kind = {"inbound": "Inbound call", "outbound": "Outbound call"}.get(
            snapshot.direction or "", "Call"
        )
    else:
        channel = _text(values, "Channel Name") or _text(values, "Channel Type") or "Digital"
        kind = f"{channel} conversation"
    skill = _text(values, "Skill Name")
    subject = f"{kind} ({skill})" if skill else kind
    return cut_text(subject, SUBJECT_MAX_LENGTH)[0]


def _notes(snapshot: InteractionSnapshot, values: dict[str, Any], excluded: frozenset[str]) -> str:
    lines: list[str] = []
    if "Disposition Notes" not in excluded and (notes := _text(values, "Disposition Notes")):
        lines.append(notes)
    if "Tags" not in excluded and (tags := _text(values, "Tags")):
        lines.append(f"Tags: {tags}")
    if snapshot.contact_ended_first:
        lines.append("The contact ended the interaction.")
    lines.append(f"Interaction ID: {snapshot.interaction_id}")
    return cut_text("\n".join(lines), NOTES_MAX_LENGTH)[0]


def build_activity(
    snapshot: InteractionSnapshot, target: TargetRecord, key: str
) -> TimelineActivity:
    """The activity for one target record. ``key`` is the job's idempotency key: the adapter
    creates at most one activity per key. Disposition, its notes and the tags are left out
    when the contact ended the interaction first, as for mapped fields."""
    values = source_values(snapshot)
    excluded = excluded_sources(snapshot.ended_by)
    duration = None
    if snapshot.started_at and snapshot.ended_at:
        duration = max(0, int((snapshot.ended_at - snapshot.started_at).total_seconds()))
    disposition = None if "Disposition Name" in excluded else _text(values, "Disposition Name")
    return TimelineActivity(
        key=key,
        record_type=target.record_type,
        record_id=target.record_id,
        subject=_subject(snapshot, values),
        direction=snapshot.direction,
        channel=snapshot.channel,
        started_at=snapshot.started_at,
        ended_at=snapshot.ended_at,
        duration_seconds=duration,
        disposition=disposition,
        notes=_notes(snapshot, values, excluded),
        agent_name=snapshot.agent_name,
        phone_number=_text(values, "ANI") if snapshot.channel == "voice" else None,
    )
