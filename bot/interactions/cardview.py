"""Pure: an interaction's stored state -> the ``CustomerCardView`` the card builder draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cards.view import CustomerCardView, HistoryView, Notice, RecordView, TypeChoice
from crm.models import FieldInfo

from ..storage.tables import InteractionRecordRow, InteractionRow
from .records import record_view
from .store import record_from_row

__all__ = ["CardContext", "CardState", "Perspective", "build_view", "CLOSED_STATES", "RELATED_PAGE"]

# States after which nobody acts on the card any more.
CLOSED_STATES = frozenset({"acw_completed", "dismissed", "unassigned"})
RELATED_PAGE = 5  # related records shown per "more" step
# Related shows the agent's latest search first, then look-up matches, then the rest.
_RELATED_ORDER = {"search": 0, "match": 1, "related": 2}


@dataclass
class CardContext:
    """What the view needs besides the interaction row: CRM metadata and history."""

    records: Sequence[InteractionRecordRow]
    history: Sequence[InteractionRow] = ()
    crm_label: str = ""
    type_labels: Mapping[str, str] = field(default_factory=dict)
    create_types: Sequence[TypeChoice] = ()
    field_meta: Mapping[str, Mapping[str, FieldInfo]] = field(default_factory=dict)
    card_fields: Mapping[str, Sequence[str] | None] = field(default_factory=dict)
    memorialization_failed: bool = False  # a CRM write of this interaction failed for good


@dataclass
class CardState:
    """What a card is drawn from: the interaction, its records (``records_of`` order) and
    its history, as read in one session or carried from the write that changed them."""

    row: InteractionRow
    records: Sequence[InteractionRecordRow]
    history: Sequence[InteractionRow]
    memorialization_failed: bool = False


@dataclass(frozen=True)
class Perspective:
    """Who the card is drawn for. ``teams_user_id`` None: the stored message's own view."""

    locale: str
    read_only_reason: str = ""  # "", "transferred", "not_assigned", "closed"
    refresh_user_id: str | None = None
    notices: tuple[Notice, ...] = ()
    # False for hosts that draw Action.Execute but never send it (the Emulator): the card
    # then gets Submit buttons only
    universal_actions: bool = True


def _view(row: InteractionRecordRow, ctx: CardContext, locale: str) -> RecordView:
    return record_view(
        record_from_row(row),
        origin=row.origin,
        locale=locale,
        type_label=ctx.type_labels.get(row.record_type, ""),
        configured=ctx.card_fields.get(row.record_type),
        meta=ctx.field_meta.get(row.record_type),
    )


def build_view(
    interaction: InteractionRow, ctx: CardContext, perspective: Perspective
) -> CustomerCardView:
    current = [r for r in ctx.records if r.section == "current"]
    pinned = {(r.record_type, r.record_id) for r in current}
    related = sorted(
        (
            r
            for r in ctx.records
            if r.section == "related" and (r.record_type, r.record_id) not in pinned
        ),
        key=lambda r: _RELATED_ORDER.get(r.origin, 9),
    )
    shown = RELATED_PAGE * (1 + interaction.related_shown)
    notices = list(perspective.notices)
    if ctx.memorialization_failed:
        notices.append(Notice(level="warning", key="memorialization_failed"))
    reason = perspective.read_only_reason
    if not reason and interaction.state in CLOSED_STATES:
        reason = "closed"
    return CustomerCardView(
        interaction_id=interaction.id,
        locale=perspective.locale,
        customer=_customer(interaction, current),
        channel=interaction.channel,
        skill=interaction.skill,
        state=interaction.state,
        crm_label=ctx.crm_label,
        current=[_view(r, ctx, perspective.locale) for r in current],
        related=[_view(r, ctx, perspective.locale) for r in related[:shown]],
        related_total=len(related),
        history=[_history(h) for h in ctx.history],
        match_outcome=interaction.match_outcome,
        search_query=interaction.search_query,
        create_types=list(ctx.create_types),
        notices=notices,
        read_only=bool(reason),
        read_only_reason=reason,
        refresh_user_ids=[perspective.refresh_user_id]
        if perspective.refresh_user_id and not reason
        else [],
    )


def _customer(interaction: InteractionRow, current: Sequence[InteractionRecordRow]) -> str:
    name = str((interaction.data or {}).get("Customer Name") or "")
    if name:
        return name
    contacts = [r for r in current if r.record_type.lower() in ("contact", "lead")]
    if len(contacts) == 1:
        return contacts[0].title
    return interaction.customer or interaction.contact_id or interaction.id


def _history(row: InteractionRow) -> HistoryView:
    data = row.data or {}
    return HistoryView(
        interaction_id=row.id,
        channel=row.channel,
        started_at=row.started_at,
        agent_name=row.agent_name,
        state=row.state,
        summary=str(data.get("Disposition Name") or row.skill or ""),
    )
