"""The Customer Card's record and history blocks, built once per distinct content.

* a **pinned** record: title, type, its mapped fields as label/value rows, and its actions;
* a **related** record: one compact row (title, type, one key field) that opens in place
  (``Action.ToggleVisibility``) to its fields and Pin / Open in CRM;
* an **earlier interaction**: one line.

Field rows are column sets with a fixed label width per record, sized for the longest
label, so common labels ("Case number") don't wrap and long values wrap in their own column.

A card is drawn several times in an interaction (first post, related records, each pin,
refresh) and mostly from the same records, and building a block's typed models and dumping
them to their wire dict is most of a card's cost. A block is a pure function of its key, so
it is built and dumped once and its wire dict serves every card that shows it (``memo``);
the dicts are never changed once made (cards are assembled around them, not into them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from microsoft_teams.cards.core import (
    Action,
    CardElement,
    Column,
    ColumnSet,
    Container,
    TargetElement,
    TextBlock,
    ToggleVisibilityAction,
)

from cards.card_json import dump_element
from cards.elements import action_set, execute, open_url, subtle, task_fetch, text, truncate
from cards.formatting import card_when, field_text
from cards.i18n import has_message, translate
from cards.view import CustomerCardView, FieldView, HistoryView, RecordView

__all__ = ["Wire", "current_block", "history_block", "memo", "related_block"]

_TITLE_CHARS = 160
_FIELD_CHARS = 200
_TEXT_CHARS = 200
_KEY_CHARS = 40
# Label column: about 7 px per character of Teams' 14 px Segoe UI, within these bounds.
_LABEL_PX_PER_CHAR = 7
_LABEL_MIN_PX, _LABEL_MAX_PX = 64, 150

Wire = dict[str, Any]  # a card element as it goes on the wire (``dump_element``)
_BLOCK_CACHE_SIZE = 1024  # ~15 KB each: ~15 MB per process at most
_blocks: dict[tuple[Any, ...], Wire] = {}


def memo(key: tuple[Any, ...], build: Callable[[], CardElement]) -> Wire:
    """The wire dict of the block built for ``key`` (built and dumped now when new; the
    oldest goes when full). Shared by every card that shows it: never to be changed."""
    block = _blocks.get(key)
    if block is None:
        if len(_blocks) >= _BLOCK_CACHE_SIZE:
            del _blocks[next(iter(_blocks))]
        block = _blocks[key] = dump_element(build())
    return block


def _record_key(record: RecordView) -> tuple[Any, ...]:
    fields = tuple((f.name, f.label, f.value, f.kind, f.url) for f in record.fields)
    return (
        record.type,
        record.type_label,
        record.id,
        record.title,
        record.url,
        record.origin,
        fields,
    )


def current_block(record: RecordView, view: CustomerCardView, locale: str) -> Wire:
    key = ("current", _record_key(record), view.interaction_id, view.read_only, locale)
    return memo(key, lambda: _build_current(record, view, locale))


def related_block(record: RecordView, view: CustomerCardView, locale: str) -> Wire:
    key = ("related", _record_key(record), view.interaction_id, view.read_only, locale)
    return memo(key, lambda: _build_related(record, view, locale))


def history_block(entry: HistoryView, locale: str) -> Wire:
    key = ("history", *entry.model_dump().values(), locale)
    return memo(key, lambda: _build_history(entry, locale))


def _record_data(view: CustomerCardView, record: RecordView) -> dict[str, Any]:
    return {"interactionId": view.interaction_id, "recordType": record.type, "recordId": record.id}


def _type_line(record: RecordView, locale: str) -> str:
    label = record.type_label
    if record.origin != "pinned":
        label = f"{label} · {translate(locale, f'origin_{record.origin}')}"
    return truncate(label, _TEXT_CHARS)


def _build_current(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    actions: list[Action] = []
    if record.url:
        actions.append(open_url(translate(locale, "action_open"), record.url))
    if not view.read_only:
        data = _record_data(view, record)
        actions.append(task_fetch(translate(locale, "action_edit"), "edit_form", data))
        actions.append(execute(translate(locale, "action_unpin"), "unpin", data))
    items: list[CardElement] = [
        TextBlock(text=truncate(record.title, _TITLE_CHARS), weight="Bolder", wrap=True),
        subtle(_type_line(record, locale), spacing="None"),
        *_field_rows(record.fields, locale),
        *action_set(actions, spacing="Small"),
    ]
    return Container(
        id=_element_id("pinned", record), items=items, style="emphasis", spacing="Small"
    )


def _build_related(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    details_id = _element_id("details", record)
    shut, open_ = _element_id("shut", record), _element_id("open", record)
    toggle = ToggleVisibilityAction(
        title=translate(locale, "action_details"),
        target_elements=[TargetElement(element_id=i) for i in (details_id, shut, open_)],
    )
    key = next((f for f in record.fields if f.value), None)
    # under "Related Interactions" a related record's origin goes without saying
    summary = [record.type_label if record.origin == "related" else _type_line(record, locale)]
    if key is not None:
        plain = key.model_copy(update={"url": ""})  # the row opens the record, no link in it
        summary.append(field_text(plain, locale, empty="", limit=_KEY_CHARS))
    row = ColumnSet(
        select_action=toggle,
        columns=[
            Column(
                width="stretch",
                items=[
                    TextBlock(
                        text=truncate(record.title, _TITLE_CHARS),
                        weight="Bolder",
                        wrap=True,
                        max_lines=1,
                    ),
                    subtle(" · ".join(summary), spacing="None", max_lines=1),
                ],
            ),
            Column(
                width="auto",
                vertical_content_alignment="Center",
                items=[
                    TextBlock(id=shut, text="▸", is_subtle=True),
                    TextBlock(id=open_, text="▾", is_subtle=True, is_visible=False, spacing="None"),
                ],
            ),
        ],
    )
    actions: list[Action] = []
    if not view.read_only:
        actions.append(execute(translate(locale, "action_pin"), "pin", _record_data(view, record)))
    if record.url:
        actions.append(open_url(translate(locale, "action_open"), record.url))
    details = Container(
        id=details_id,
        is_visible=False,
        spacing="Small",
        items=[*_field_rows(record.fields, locale), *action_set(actions, spacing="Small")],
    )
    return Container(items=[row, details], spacing="Small", separator=True)


def _field_rows(fields: list[FieldView], locale: str) -> list[CardElement]:
    if not fields:
        return []
    longest = max(len(f.label) for f in fields)
    px = min(_LABEL_MAX_PX, max(_LABEL_MIN_PX, longest * _LABEL_PX_PER_CHAR + 8))
    empty = translate(locale, "empty_value")
    return [
        ColumnSet(
            spacing="Small" if index == 0 else "None",
            columns=[
                Column(
                    width=f"{px}px", items=[text(truncate(f.label, _TEXT_CHARS), is_subtle=True)]
                ),
                Column(
                    width="stretch",
                    items=[text(field_text(f, locale, empty=empty, limit=_FIELD_CHARS))],
                ),
            ],
        )
        for index, f in enumerate(fields)
    ]


def _build_history(entry: HistoryView, locale: str) -> TextBlock:
    when = card_when(entry.started_at) if entry.started_at else ""
    state = f"state_{entry.state}"
    parts = [
        translate(locale, f"channel_{entry.channel}"),
        when or translate(locale, "history_unknown_time"),
        truncate(entry.agent_name, _TEXT_CHARS),
        translate(locale, state) if has_message(state) else entry.state,
        truncate(entry.summary, _TEXT_CHARS),
    ]
    return subtle(" · ".join(p for p in parts if p), spacing="None", max_lines=1)


def _element_id(kind: str, record: RecordView) -> str:
    """A card-unique element id for one of a record's parts (ids need not be readable, and
    a CRM id may hold any character)."""
    digest = hashlib.blake2s(f"{record.type}\0{record.id}".encode(), digest_size=6).hexdigest()
    return f"{kind}-{digest}"
