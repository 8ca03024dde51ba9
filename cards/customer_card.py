"""The Customer Card: what the agent sees during an interaction.

Layout, top to bottom: header (customer, channel, skill, state), notices, the outcome of
the start-up look-up, **Current Interaction** (pinned and created records), **Related
Interactions** (earlier interactions, related records, search results), then search and
create, and a Refresh button. A read-only card keeps only the Open in CRM links.

Every card fits Teams' message limit: when the records don't fit, the first ones are shown
with a "more" action (see ``_fit``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from microsoft_teams.cards.core import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    Container,
    ExecuteAction,
    RefreshDefinition,
    TeamsCardProperties,
    TextBlock,
    TextInput,
)

from cards.card_json import (
    CARD_BYTE_BUDGET,
    card_size_bytes,
    dump_card,
    without_universal_actions,
)
from cards.card_notices import READ_ONLY_NOTICE_ID, notice_id
from cards.elements import (
    action_set,
    execute,
    facts,
    heading,
    notice_block,
    open_url,
    subtle,
    task_fetch,
    text,
    truncate,
)
from cards.i18n import has_message, pick_locale, translate
from cards.view import CustomerCardView, HistoryView, RecordView

__all__ = ["MAX_REFRESH_USERS", "build_customer_card"]

MAX_REFRESH_USERS = 60  # Teams honours at most 60 ids in refresh.userIds
_MAX_NOTICES = 5
_TITLE_CHARS = 160
_FIELD_CHARS = 200
_TEXT_CHARS = 200
_QUERY_CHARS = 200

_READ_ONLY_KEYS = {
    "transferred": "transferred",
    "not_assigned": "not_assigned",
    "closed": "card_closed",
    "": "read_only",
}
# Warning-yellow text is hard to read on Teams' light theme, so "none" stays default.
_OUTCOME: dict[str, tuple[str, Literal["Good", "Accent", "Default"]]] = {
    "one": ("one_match", "Good"),
    "several": ("several_matches", "Accent"),
    "none": ("no_matches", "Default"),
}

Section = Literal["current", "history", "related"]
_Block = TypeVar("_Block")
_Entry = tuple[Section, CardElement]


def build_customer_card(
    view: CustomerCardView, *, universal_actions: bool = True
) -> dict[str, Any]:
    """The Customer Card for ``view`` as an Adaptive Card 1.5 dict, under the size budget;
    with Submit buttons only when the host lacks ``universal_actions`` (the Emulator)."""
    locale = pick_locale(view.locale)
    entries: list[_Entry] = [("current", _current_block(r, view, locale)) for r in view.current]
    entries += [("history", _history_block(h, locale)) for h in view.history]
    entries += [("related", _related_block(r, view, locale)) for r in view.related]
    card = _fit(lambda shown: _assemble(view, locale, entries, shown), len(entries))
    # dropping the Execute actions only makes the card smaller
    return card if universal_actions else without_universal_actions(card)


def _fit(build: Callable[[int], dict[str, Any]], total: int) -> dict[str, Any]:
    """The card with the most leading entries that stays within ``CARD_BYTE_BUDGET``.

    Size grows with the number of entries shown, so a binary search over that number
    finds the largest that fits in a handful of builds; the common case fits at once.
    """
    card = build(total)
    if card_size_bytes(card) <= CARD_BYTE_BUDGET:
        return card
    best, low, high = build(0), 1, total - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = build(middle)
        if card_size_bytes(candidate) <= CARD_BYTE_BUDGET:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def _assemble(
    view: CustomerCardView, locale: str, entries: list[_Entry], shown: int
) -> dict[str, Any]:
    interactive = not view.read_only
    visible = entries[:shown]
    hidden = len(entries) - shown + max(0, view.related_total - len(view.related))
    body: list[CardElement] = [*_header(view, locale), *_notices(view, locale)]
    body += _outcome(view, locale)
    find = _find_section(view, locale) if interactive else []
    if view.match_outcome == "none":  # nothing to show yet: put search and create first
        body, find = body + find, []
    body += _current_section(visible, locale, any_current=bool(view.current))
    body += _related_section(visible, locale)
    body += _more(view, locale, hidden, visible) if hidden else []
    body += find
    card = AdaptiveCard(
        version="1.5",
        lang=locale,
        fallback_text=translate(locale, "card_fallback", customer=_customer(view)),
        msteams=TeamsCardProperties(width="full"),
        refresh=_refresh(view) if interactive else None,
        body=body,
        actions=[_interaction_action(view, locale, "action_refresh", "refresh")]
        if interactive
        else None,
    )
    return dump_card(card)


def _customer(view: CustomerCardView) -> str:
    return truncate(view.customer, _TEXT_CHARS)


def _header(view: CustomerCardView, locale: str) -> list[CardElement]:
    state = f"state_{view.state}"
    parts = [
        translate(locale, f"channel_{view.channel}"),
        truncate(view.skill, _TEXT_CHARS),
        translate(locale, state) if has_message(state) else view.state,
    ]
    items: list[CardElement] = [
        TextBlock(text=_customer(view), size="Large", weight="Bolder", wrap=True),
        subtle(" · ".join(p for p in parts if p), spacing="None"),
    ]
    if view.crm_label:
        crm = truncate(view.crm_label, _TEXT_CHARS)
        items.append(subtle(translate(locale, "card_crm", crm=crm), spacing="None"))
    return items


def _notices(view: CustomerCardView, locale: str) -> list[CardElement]:
    blocks: list[CardElement] = []
    if view.read_only:
        key = _READ_ONLY_KEYS[view.read_only_reason]
        message = translate(locale, key)
        blocks.append(notice_block(message, "warning", block_id=READ_ONLY_NOTICE_ID))
    for index, notice in enumerate(view.notices[:_MAX_NOTICES]):
        message = truncate(translate(locale, notice.key, **notice.params), 2 * _FIELD_CHARS)
        blocks.append(notice_block(message, notice.level, block_id=notice_id(index)))
    return blocks


def _outcome(view: CustomerCardView, locale: str) -> list[CardElement]:
    if view.match_outcome not in _OUTCOME:
        return []
    key, color = _OUTCOME[view.match_outcome]
    return [text(translate(locale, key), color=color, weight="Bolder", spacing="Medium")]


def _current_section(visible: list[_Entry], locale: str, *, any_current: bool) -> list[CardElement]:
    blocks = [element for section, element in visible if section == "current"]
    body: list[CardElement] = [heading(translate(locale, "section_current"))]
    if not any_current:
        body.append(subtle(translate(locale, "current_empty")))
    return body + blocks


def _related_section(visible: list[_Entry], locale: str) -> list[CardElement]:
    history = [element for section, element in visible if section == "history"]
    related = [element for section, element in visible if section == "related"]
    body: list[CardElement] = [heading(translate(locale, "section_related"))]
    if history:
        body += [_subheading(translate(locale, "history_heading")), *history]
    if related:
        body += [_subheading(translate(locale, "related_records_heading")), *related]
    if not history and not related:
        body.append(subtle(translate(locale, "related_empty")))
    return body


def _subheading(value: str) -> TextBlock:
    return TextBlock(text=value, weight="Bolder", wrap=True, spacing="Medium")


def _more(
    view: CustomerCardView, locale: str, hidden: int, visible: list[_Entry]
) -> list[CardElement]:
    body: list[CardElement] = [subtle(translate(locale, "more_hidden", count=hidden))]
    if view.read_only:
        return body
    shown_related = sum(1 for section, _ in visible if section == "related")
    more = execute(
        translate(locale, "action_more"),
        "more",
        {"interactionId": view.interaction_id, "shown": shown_related},
    )
    return body + action_set([more], spacing="Small")


def _find_section(view: CustomerCardView, locale: str) -> list[CardElement]:
    types = tuple((t.name, t.label) for t in view.create_types)
    key = ("find", view.interaction_id, view.search_query, types, locale)
    return list(_memo(key, lambda: _build_find_section(view, locale)))  # callers extend it


def _build_find_section(view: CustomerCardView, locale: str) -> list[CardElement]:
    query = TextInput(
        id="query",
        label=translate(locale, "search_label"),
        placeholder=translate(locale, "search_placeholder"),
        value=truncate(view.search_query, _QUERY_CHARS) or None,
        max_length=_QUERY_CHARS,
    )
    search = _interaction_action(view, locale, "action_search", "search")
    body: list[CardElement] = [heading(translate(locale, "section_find")), _beside(query, search)]
    if view.create_types:
        create_type = ChoiceSetInput(
            id="createType",
            label=translate(locale, "create_label"),
            style="compact",
            value=view.create_types[0].name,
            choices=[Choice(title=t.label, value=t.name) for t in view.create_types],
        )
        create = task_fetch(
            translate(locale, "action_create"),
            "create_form",
            {"interactionId": view.interaction_id},
        )
        body.append(_beside(create_type, create))
    return body


def _beside(field: CardElement, action: Action) -> ColumnSet:
    """An input with its button to the right, aligned with the input box."""
    return ColumnSet(
        spacing="Medium",
        columns=[
            Column(width="stretch", items=[field]),
            Column(width="auto", vertical_content_alignment="Bottom", items=action_set([action])),
        ],
    )


def _interaction_action(view: CustomerCardView, locale: str, title: str, verb: str) -> Action:
    return execute(translate(locale, title), verb, {"interactionId": view.interaction_id})


def _refresh(view: CustomerCardView) -> RefreshDefinition | None:
    user_ids = list(dict.fromkeys(view.refresh_user_ids))[:MAX_REFRESH_USERS]
    if not user_ids:
        return None
    data = {"verb": "refresh", "interactionId": view.interaction_id}
    return RefreshDefinition(action=ExecuteAction(verb="refresh", data=data), user_ids=user_ids)


# --- record and history blocks, memoized ---------------------------------------------
#
# A card is drawn several times in an interaction (first post, related records, each pin,
# refresh) and mostly from the same records, and building a block's typed models is most
# of a card's cost. A block is a pure function of the key below, and the models are never
# changed once built, so one block object serves every card that shows it.

_BLOCK_CACHE_SIZE = 1024  # ~15 KB each: ~15 MB per process at most
_blocks: dict[tuple[Any, ...], Any] = {}


def _memo(key: tuple[Any, ...], build: Callable[[], _Block]) -> _Block:
    block: _Block | None = _blocks.get(key)
    if block is None:
        if len(_blocks) >= _BLOCK_CACHE_SIZE:
            del _blocks[next(iter(_blocks))]  # the oldest
        block = _blocks[key] = build()
    return block


def _record_key(record: RecordView) -> tuple[Any, ...]:
    fields = tuple((f.name, f.label, f.value) for f in record.fields)
    return (
        record.type,
        record.type_label,
        record.id,
        record.title,
        record.url,
        record.origin,
        fields,
    )


def _current_block(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    key = ("current", _record_key(record), view.interaction_id, view.read_only, locale)
    return _memo(key, lambda: _build_current_block(record, view, locale))


def _related_block(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    key = ("related", _record_key(record), view.interaction_id, view.read_only, locale)
    return _memo(key, lambda: _build_related_block(record, view, locale))


def _history_block(entry: HistoryView, locale: str) -> Container:
    key = (
        "history",
        entry.interaction_id,
        entry.channel,
        entry.started_at,
        entry.agent_name,
        entry.state,
        entry.summary,
        locale,
    )
    return _memo(key, lambda: _build_history_block(entry, locale))


def _record_data(view: CustomerCardView, record: RecordView) -> dict[str, Any]:
    return {"interactionId": view.interaction_id, "recordType": record.type, "recordId": record.id}


def _build_current_block(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    actions: list[Action] = []
    if record.url:
        actions.append(open_url(translate(locale, "action_open"), record.url))
    if not view.read_only:
        data = _record_data(view, record)
        actions.append(task_fetch(translate(locale, "action_edit"), "edit_form", data))
        actions.append(execute(translate(locale, "action_unpin"), "unpin", data))
    return _record_container(record, locale, actions)


def _build_related_block(record: RecordView, view: CustomerCardView, locale: str) -> Container:
    actions: list[Action] = []
    if not view.read_only:
        pin = execute(translate(locale, "action_pin"), "pin", _record_data(view, record))
        actions.append(pin)
    if record.url:
        actions.append(open_url(translate(locale, "action_open"), record.url))
    return _record_container(record, locale, actions)


def _record_container(record: RecordView, locale: str, actions: list[Action]) -> Container:
    label = record.type_label
    if record.origin != "pinned":
        label = f"{label} · {translate(locale, f'origin_{record.origin}')}"
    items: list[CardElement] = [
        TextBlock(text=truncate(record.title, _TITLE_CHARS), weight="Bolder", wrap=True),
        subtle(truncate(label, _TEXT_CHARS), spacing="None"),
    ]
    if record.fields:
        empty = translate(locale, "empty_value")
        items.append(facts(record.fields, empty=empty, limit=_FIELD_CHARS))
    items += action_set(actions, spacing="Small")
    return Container(items=items, style="emphasis", spacing="Medium")


def _build_history_block(entry: HistoryView, locale: str) -> Container:
    when = _when(entry.started_at) or translate(locale, "history_unknown_time")
    state = f"state_{entry.state}"
    details = [
        truncate(entry.agent_name, _TEXT_CHARS),
        translate(locale, state) if has_message(state) else entry.state,
        truncate(entry.summary, _TEXT_CHARS),
    ]
    items: list[CardElement] = [
        text(f"{translate(locale, f'channel_{entry.channel}')} · {when}", weight="Bolder"),
    ]
    line = " · ".join(d for d in details if d)
    if line:
        items.append(subtle(line, spacing="None"))
    return Container(items=items, spacing="Small")


def _when(moment: datetime | None) -> str:
    """Date and time in the agent's own time zone and format, rendered by the Teams client.

    Adaptive Cards' DATE/TIME functions take an RFC 3339 UTC timestamp; naive values from
    the store are UTC.
    """
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"
