"""The pure heart of memorialization: (interaction data, mapping rules, field metadata) ->
the field values to write to one record.

Everything written is text: timestamps as ISO 8601, booleans as ``true``/``false``, lists
(tags) joined with ", ". Text longer than the target field's maximum length is cut, ends with
a visible marker, and the cut is reported, so a transcript is never dropped and never refused
by the CRM for its length. Values that are not text-like (attachments, images, notes arrive as
objects) and target fields that cannot hold text (references, files) are never mapped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from crm.mappings import FieldMapping
from crm.models import FieldInfo, FieldType

from .snapshot import InteractionSnapshot, source_values
from .triggers import excluded_sources

__all__ = [
    "TRUNCATION_MARKER",
    "Truncation",
    "SkippedRule",
    "MappedFields",
    "format_value",
    "cut_text",
    "map_fields",
]

TRUNCATION_MARKER = " [... truncated]"

# Field types a memorialization value can never go to: ids of other records, files.
_NOT_WRITABLE = frozenset({FieldType.REFERENCE, FieldType.OTHER})


@dataclass(frozen=True)
class Truncation:
    field: str
    original_length: int
    kept_length: int  # characters written, marker included


@dataclass(frozen=True)
class SkippedRule:
    field: str
    source: str
    # other_channel | contact_ended | no_value | not_text | unknown_field | not_updateable
    # | not_writable_type | not_an_option
    reason: str


@dataclass(frozen=True)
class MappedFields:
    values: dict[str, str] = field(default_factory=dict)
    truncations: tuple[Truncation, ...] = ()
    skipped: tuple[SkippedRule, ...] = ()

    def result(self) -> dict[str, Any]:
        """What the job records of this write (JSON): the fields written, the values cut
        short, and the rules skipped (a rule for the other channel is no news)."""
        return {
            "fields": sorted(self.values),
            "truncated": [
                {
                    "field": cut.field,
                    "originalLength": cut.original_length,
                    "keptLength": cut.kept_length,
                }
                for cut in self.truncations
            ],
            "skipped": [
                {"field": skip.field, "source": skip.source, "reason": skip.reason}
                for skip in self.skipped
                if skip.reason != "other_channel"
            ],
        }


def _format_scalar(value: Any) -> str | None:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return str(value)
    return None


def format_value(value: Any) -> str | None:
    """``value`` as text, or None when it is not text-like (a dict, bytes, an attachment)."""
    if isinstance(value, list | tuple):
        parts = [_format_scalar(item) for item in value if item is not None]
        if any(part is None for part in parts):
            return None
        return ", ".join(part for part in parts if part)
    return _format_scalar(value)


def cut_text(text: str, max_length: int | None) -> tuple[str, bool]:
    """``text`` fitted into ``max_length`` characters, ending with the marker when cut."""
    if max_length is None or len(text) <= max_length:
        return text, False
    if max_length <= len(TRUNCATION_MARKER):
        return text[:max_length], True
    return text[: max_length - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER, True


def _field_index(fields: Iterable[FieldInfo]) -> tuple[dict[str, FieldInfo], dict[str, FieldInfo]]:
    exact: dict[str, FieldInfo] = {}
    folded: dict[str, FieldInfo] = {}
    for info in fields:
        exact[info.name] = info
        folded.setdefault(info.name.lower(), info)
    return exact, folded


def _source_value(
    snapshot: InteractionSnapshot, platform: Mapping[str, Any], rule: FieldMapping
) -> tuple[Any, str | None]:
    """The raw value for a rule, or a skip reason."""
    source = rule.source
    if source.channel == "script_variable":
        return snapshot.script_variables.get(source.field), None
    if source.channel != snapshot.channel:
        return None, "other_channel"
    if source.field in excluded_sources(snapshot.ended_by):
        return None, "contact_ended"
    return platform.get(source.field), None


def _check_target(info: FieldInfo | None, text: str) -> str | None:
    if info is None:
        return "unknown_field"
    if not info.updateable:
        return "not_updateable"
    if info.type in _NOT_WRITABLE:
        return "not_writable_type"
    if info.type == FieldType.PICKLIST and info.options and text not in info.options:
        return "not_an_option"  # a restricted picklist would refuse the whole write
    return None


def map_fields(
    snapshot: InteractionSnapshot, rules: Iterable[FieldMapping], fields: Iterable[FieldInfo]
) -> MappedFields:
    """Field values for one record from the rules of its record type and the CRM's field
    metadata. Rules that cannot be applied are reported in ``skipped`` with a reason;
    a later rule for the same field wins."""
    platform = source_values(snapshot)
    exact, folded = _field_index(fields)
    values: dict[str, str] = {}
    cuts: dict[str, Truncation] = {}
    skipped: list[SkippedRule] = []
    for rule in rules:
        name = rule.crm_field
        raw, reason = _source_value(snapshot, platform, rule)
        text = None if reason else format_value(raw)
        if reason is None and (raw is None or raw == "" or raw == []):
            reason = "no_value"
        elif reason is None and text is None:
            reason = "not_text"
        info = exact.get(name) or folded.get(name.lower())
        if reason is None:
            reason = _check_target(info, text or "")
        if reason is not None or info is None or text is None:
            skipped.append(
                SkippedRule(field=name, source=rule.source.field, reason=reason or "no_value")
            )
            continue
        written, was_cut = cut_text(text, info.max_length)
        values[info.name] = written
        cuts.pop(info.name, None)
        if was_cut:
            cuts[info.name] = Truncation(info.name, len(text), len(written))
    return MappedFields(values=values, truncations=tuple(cuts.values()), skipped=tuple(skipped))
