"""Plain-text helpers the Zendesk, Kustomer and Oracle adapters share: the body of a timeline
note (ending in the marker that makes it idempotent) and the caller-number comparison that
re-checks phone search results. Pure functions, no I/O."""

from __future__ import annotations

from .models import TimelineActivity

__all__ = ["activity_marker", "format_activity"]


def activity_marker(key: str) -> str:
    """The text that identifies an activity's note, so a retry can find it."""
    return f"[customer-card:{key}]"


def format_activity(activity: TimelineActivity, limit: int) -> str:
    """Subject, facts, notes (shortened to fit ``limit``) and the marker, one per line."""
    lines = [activity.subject]
    facts = [
        ("Direction", activity.direction),
        ("Channel", activity.channel),
        ("Phone", activity.phone_number),
        ("Started", activity.started_at.isoformat() if activity.started_at else None),
        ("Ended", activity.ended_at.isoformat() if activity.ended_at else None),
        ("Duration (s)", activity.duration_seconds),
        ("Disposition", activity.disposition),
        ("Agent", activity.agent_name),
    ]
    lines += [f"{label}: {value}" for label, value in facts if value not in (None, "")]
    marker = activity_marker(activity.key)
    notes = activity.notes or ""
    room = limit - sum(len(line) + 1 for line in lines) - len(marker) - 4
    if notes:
        lines += ["", notes if len(notes) <= room else notes[: max(0, room - 1)] + "…"]
    return "\n".join([*lines, "", marker])
