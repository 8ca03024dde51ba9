"""The Customer Card: what the agent sees during an interaction.

Layout, top to bottom, so that the first screen (~600 px in Teams) holds who is calling,
how they were matched, the pinned records and the search box: header (customer, channel,
skill, state, CRM), notices, the outcome of the start-up look-up, **Current Interaction**
(pinned and created records with their fields and actions), the search box, **Related
Interactions** (earlier interactions one line each; related records and search results one
compact row each, opening in place), then create, and a Refresh button. With no match,
search and create come first. A read-only card keeps only the Open in CRM links.

Every card fits Teams' message limit: when the records don't fit, the first ones are shown
with a "more" action (see ``_fit``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from microsoft_teams.cards.core import (
    Action,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    ExecuteAction,
    RefreshDefinition,
    TeamsCardProperties,
    TextBlock,
    TextInput,
)

from cards.card_json import (
    CARD_BYTE_BUDGET,
    card_text,
    dump_card,
    dump_element,
    without_universal_actions,
)
from cards.card_notices import READ_ONLY_NOTICE_ID, notice_id
from cards.elements import (
    action_set,
    execute,
    heading,
    notice_block,
    subtle,
    task_fetch,
    text,
    truncate,
)
from cards.i18n import has_message, pick_locale, translate
from cards.record_blocks import Wire, current_block, history_block, memo, related_block
from cards.view import CustomerCardView

__all__ = ["MAX_REFRESH_USERS", "SEARCH_ID", "build_customer_card", "draw_customer_card"]

MAX_REFRESH_USERS = 60  # Teams honours at most 60 ids in refresh.userIds
SEARCH_ID = "search"  # element id of the search row (the rendered-layout test finds it)
_MAX_NOTICES = 5
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
_Entry = tuple[Section, Wire]
# the body as assembled: elements of this card, and memoized blocks already dumped
_Body = list[CardElement | Wire]


def build_customer_card(
    view: CustomerCardView, *, universal_actions: bool = True
) -> dict[str, Any]:
    """The Customer Card for ``view`` as an Adaptive Card 1.5 dict, under the size budget;
    with Submit buttons only when the host lacks ``universal_actions`` (the Emulator)."""
    return draw_customer_card(view, universal_actions=universal_actions)[0]


def draw_customer_card(
    view: CustomerCardView, *, universal_actions: bool = True
) -> tuple[dict[str, Any], str]:
    """``build_customer_card``'s card and its ``card_text``, which measuring its size made
    (a caller that tells cards apart by it need not write the card again)."""
    locale = pick_locale(view.locale)
    # the full locale tag (en-GB, de-AT) decides number and date formats
    tag = view.locale if pick_locale(view.locale) == locale else locale
    entries: list[_Entry] = [("current", current_block(r, view, tag)) for r in view.current]
    entries += [("history", history_block(h, tag)) for h in view.history]
    entries += [("related", related_block(r, view, tag)) for r in view.related]
    card, text = _fit(lambda shown: _assemble(view, locale, entries, shown), len(entries))
    if universal_actions:
        return card, text
    # dropping the Execute actions only makes the card smaller
    card = without_universal_actions(card)
    return card, card_text(card)


def _fit(build: Callable[[int], dict[str, Any]], total: int) -> tuple[dict[str, Any], str]:
    """The card with the most leading entries that stays within ``CARD_BYTE_BUDGET``, and
    its ``card_text`` (whose length is its size).

    Size grows with the number of entries shown, so a binary search over that number
    finds the largest that fits in a handful of builds; the common case fits at once.
    """
    card = build(total)
    text = card_text(card)
    if len(text) <= CARD_BYTE_BUDGET:
        return card, text
    card = build(0)
    best, low, high = (card, card_text(card)), 1, total - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = build(middle)
        text = card_text(candidate)
        if len(text) <= CARD_BYTE_BUDGET:
            best, low = (candidate, text), middle + 1
        else:
            high = middle - 1
    return best


def _assemble(
    view: CustomerCardView, locale: str, entries: list[_Entry], shown: int
) -> dict[str, Any]:
    interactive = not view.read_only
    visible = entries[:shown]
    hidden = len(entries) - shown + max(0, view.related_total - len(view.related))
    body: _Body = [*_header(view, locale), *_notices(view, locale)]
    body += _outcome(view, locale)
    search = _search_row(view, locale) if interactive else []
    create = _create_row(view, locale) if interactive else []
    if view.match_outcome == "none":  # nothing to show yet: search and create first
        body, search, create = [*body, *search, *create], [], []
    body += _current_section(visible, locale, any_current=bool(view.current))
    body += search
    body += _related_section(visible, locale)
    body += _more(view, locale, hidden, visible) if hidden else []
    body += create
    card = AdaptiveCard(
        version="1.5",
        lang=locale,
        fallback_text=translate(locale, "card_fallback", customer=_customer(view)),
        msteams=TeamsCardProperties(width="full"),
        refresh=_refresh(view) if interactive else None,
        body=[],  # the body goes in dumped (dump_card): memoized blocks are dumped once
        actions=[_interaction_action(view, locale, "action_refresh", "refresh")]
        if interactive
        else None,
    )
    return dump_card(card, [e if isinstance(e, dict) else dump_element(e) for e in body])


def _customer(view: CustomerCardView) -> str:
    return truncate(view.customer, _TEXT_CHARS)


def _header(view: CustomerCardView, locale: str) -> list[CardElement]:
    state = f"state_{view.state}"
    parts = [
        translate(locale, f"channel_{view.channel}"),
        truncate(view.skill, _TEXT_CHARS),
        translate(locale, state) if has_message(state) else view.state,
    ]
    if view.crm_label:
        parts.append(translate(locale, "card_crm", crm=truncate(view.crm_label, _TEXT_CHARS)))
    return [
        TextBlock(text=_customer(view), size="Large", weight="Bolder", wrap=True),
        subtle(" · ".join(p for p in parts if p), spacing="None"),
    ]


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
    if view.match_outcome == "one" and not any(r.origin == "match" for r in view.current):
        key = "one_match_unpinned"  # the agent unpinned it: say what is true now
    return [text(translate(locale, key), color=color, weight="Bolder", spacing="Small")]


def _current_section(visible: list[_Entry], locale: str, *, any_current: bool) -> _Body:
    blocks = [element for section, element in visible if section == "current"]
    body: _Body = [heading(translate(locale, "section_current"))]
    if not any_current:
        body.append(subtle(translate(locale, "current_empty")))
    return body + blocks


def _related_section(visible: list[_Entry], locale: str) -> _Body:
    history = [element for section, element in visible if section == "history"]
    related = [element for section, element in visible if section == "related"]
    body: _Body = [heading(translate(locale, "section_related"))]
    body += related  # right under the section heading: no subheading of their own
    if history:
        body += [_subheading(translate(locale, "history_heading")), *history]
    if not history and not related:
        body.append(subtle(translate(locale, "related_empty")))
    return body


def _subheading(value: str) -> TextBlock:
    return TextBlock(text=value, weight="Bolder", wrap=True, spacing="Small")


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


def _search_row(view: CustomerCardView, locale: str) -> list[Wire]:
    key = ("search", view.interaction_id, view.search_query, locale)
    return [memo(key, lambda: _build_search_row(view, locale))]


def _build_search_row(view: CustomerCardView, locale: str) -> CardElement:
    query = TextInput(
        id="query",
        label=translate(locale, "search_label"),
        placeholder=translate(locale, "search_placeholder"),
        value=truncate(view.search_query, _QUERY_CHARS) or None,
        max_length=_QUERY_CHARS,
    )
    search = _interaction_action(view, locale, "action_search", "search")
    return _beside(query, search, block_id=SEARCH_ID)


def _create_row(view: CustomerCardView, locale: str) -> list[Wire]:
    if not view.create_types:
        return []
    types = tuple((t.name, t.label) for t in view.create_types)
    key = ("create", view.interaction_id, types, locale)
    return [memo(key, lambda: _build_create_row(view, locale))]


def _build_create_row(view: CustomerCardView, locale: str) -> CardElement:
    create_type = ChoiceSetInput(
        id="createType",
        label=translate(locale, "create_label"),
        style="compact",
        value=view.create_types[0].name,
        choices=[Choice(title=t.label, value=t.name) for t in view.create_types],
    )
    create = task_fetch(
        translate(locale, "action_create"), "create_form", {"interactionId": view.interaction_id}
    )
    return _beside(create_type, create)


def _beside(field: CardElement, action: Action, *, block_id: str | None = None) -> ColumnSet:
    """An input with its button to the right, aligned with the input box."""
    return ColumnSet(
        id=block_id,
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
