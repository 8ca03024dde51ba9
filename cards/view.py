"""What the card builders take: plain, already-localisable view data. No I/O, no bot types.

``bot/`` fills these from its store and the CRM; ``cards/`` turns them into Adaptive Card
JSON. Both sides import only this module to talk to each other.

Action data contract (``data`` of every action, echoed back in invokes):
  {"verb": <verb>, "interactionId": str, "recordType"?: str, "recordId"?: str, ...}
Verbs (Action.Execute): ``refresh``, ``pin``, ``unpin``, ``search`` (input ``query``),
``more`` (show more related), ``save`` (inline form submit, used by the Playground path).
Dialogs can only be opened from a card by ``Action.Submit`` with
``data.msteams.type = "task/fetch"``; those carry ``verb`` ``create_form`` (input
``createType``) or ``edit_form``, and the dialog's submit carries ``verb`` ``create`` or
``edit``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "FieldKind",
    "FieldView",
    "RecordView",
    "HistoryView",
    "Notice",
    "TypeChoice",
    "CustomerCardView",
    "FormField",
    "FormView",
]


FieldKind = Literal["text", "number", "date", "datetime", "boolean"]


class FieldView(BaseModel):
    """One field on the card. Text is shown as given; the card formats the other kinds by
    its locale from their plain value (``number``: ``"1234.5"``, ``date``: ISO
    ``"2025-01-31"``, ``datetime``: ISO with offset, ``boolean``: ``"true"``/``"false"``)."""

    name: str
    label: str
    value: str  # display text (a reference field: the referenced record's name)
    kind: FieldKind = "text"
    url: str = ""  # shown as a link to this (e.g. the referenced record in the CRM)


class RecordView(BaseModel):
    type: str
    type_label: str
    id: str
    title: str
    url: str = ""  # Open in CRM deep link; no button when empty
    fields: list[FieldView] = Field(default_factory=list)  # at most 5 text + 3 other
    origin: Literal["match", "created", "pinned", "related", "search"] = "match"


class HistoryView(BaseModel):
    """An earlier interaction with the same contact, from our own store."""

    interaction_id: str
    channel: Literal["voice", "digital"]
    started_at: datetime | None = None
    agent_name: str = ""
    state: str = ""
    summary: str = ""  # disposition or skill


class Notice(BaseModel):
    """A short message on the card: ``key`` is an ``cards.i18n`` message key."""

    level: Literal["info", "warning", "error"] = "info"
    key: str
    params: dict[str, str] = Field(default_factory=dict)


class TypeChoice(BaseModel):
    name: str
    label: str


class CustomerCardView(BaseModel):
    interaction_id: str
    locale: str = "en-US"
    customer: str  # customer name, or the number / address when unknown
    channel: Literal["voice", "digital"]
    skill: str = ""
    state: str  # started, updated, ended, acw_completed, transferred, ...
    crm_label: str = ""  # e.g. "Salesforce (Acme prod)"
    current: list[RecordView] = Field(default_factory=list)
    related: list[RecordView] = Field(default_factory=list)
    related_total: int = 0  # how many related/search records exist (more than shown?)
    history: list[HistoryView] = Field(default_factory=list)
    # outcome of the start-up look-up: "one" (auto-pinned), "several", "none", "unsearched"
    match_outcome: Literal["one", "several", "none", "unsearched"] = "unsearched"
    search_query: str = ""  # last search text, shown in the input
    create_types: list[TypeChoice] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    read_only: bool = False
    read_only_reason: Literal["", "transferred", "not_assigned", "closed"] = ""
    # Teams user ids (29:...) that get automatic refresh (the assigned agent); max 60
    refresh_user_ids: list[str] = Field(default_factory=list)


class FormField(BaseModel):
    name: str
    label: str
    type: str  # crm.models.FieldType value
    required: bool = False
    max_length: int | None = None
    options: list[str] = Field(default_factory=list)
    value: str = ""
    error: str = ""  # already localised error text for this field


class FormView(BaseModel):
    """A create or edit form (dialog content, or inline on the card)."""

    mode: Literal["create", "edit"]
    interaction_id: str
    locale: str = "en-US"
    record_type: str
    type_label: str
    record_id: str = ""  # edit only
    fields: list[FormField]
    error: str = ""  # form-level error text (already localised)
