"""Vendor-neutral models that cross the adapter seam. Adapters never return raw vendor JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InputError

__all__ = [
    "check_conditions",
    "FieldType",
    "FieldInfo",
    "RecordType",
    "FieldValue",
    "CrmRecord",
    "RecordRef",
    "CrmSystem",
    "PhoneSearch",
    "EmailSearch",
    "TextSearch",
    "IdSearch",
    "Condition",
    "DynamicSearch",
    "SearchQuery",
    "TimelineActivity",
    "TimelineRef",
    "RecordWrite",
    "TEXT_FIELD_TYPES",
]

FieldValue = str | int | float | bool | None


class FieldType(StrEnum):
    """The kinds of field the card, forms and mappings distinguish."""

    TEXT = "text"  # single-line string
    LONG_TEXT = "long_text"  # textarea / description / transcript-sized
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    REFERENCE = "reference"  # id of another record
    OTHER = "other"


# Field types that hold free text: memorialization may write them, and the card counts
# them against the "5 text fields" budget.
TEXT_FIELD_TYPES = frozenset(
    {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.PHONE, FieldType.EMAIL, FieldType.URL}
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid")


class _Labelled(_Model):
    """Something with a label the agent reads: ``label`` as the CRM names it, ``labels`` the
    same in other languages by language code ("de"), where the CRM provides them."""

    label: str
    labels: dict[str, str] = Field(default_factory=dict)

    def label_in(self, locale: str) -> str:
        """The label in ``locale``'s language ("de-DE" -> "de"), else the CRM's own."""
        return self.labels.get(locale.split("-")[0].lower(), self.label)


class FieldInfo(_Labelled):
    name: str  # API name
    type: FieldType
    max_length: int | None = None  # characters; None when the CRM sets no limit
    required: bool = False  # required on create
    createable: bool = True
    updateable: bool = True
    custom: bool = False
    options: list[str] = Field(default_factory=list)  # picklist values

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_FIELD_TYPES


class RecordType(_Labelled):
    name: str  # API name as the adapter accepts it, e.g. "contact", "Case", "new_project"
    standard: bool = True  # a standard type of the CRM (create standard) vs custom
    createable: bool = True
    searchable: bool = True
    supports_timeline: bool = True  # can a timeline activity be linked to it


class CrmSystem(_Model):
    """Which CRM a result came from (the anchor's ``system`` block)."""

    type: str  # integration type, e.g. "salesforce"
    label: str
    base_url: str


class RecordRef(_Model):
    """The record a reference field points at, as the agent should see it: its name, and a
    link when the CRM has one. Adapters fill it while reading the referencing record."""

    type: str  # record type name of the target
    id: str
    name: str  # display name (title) of the target
    url: str = ""  # deep link to the target; empty when unknown


class CrmRecord(_Model):
    type: str  # record type name
    id: str
    title: str  # display title, e.g. the contact's full name or the case subject
    url: str = ""  # deep link that opens the record in the CRM
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    updated_at: datetime | None = None
    # ids of records it belongs to (account / household), for "related" look-ups
    parent_ids: dict[str, str] = Field(default_factory=dict)
    # reference field name -> the record it points at (only where the adapter resolved it)
    references: dict[str, RecordRef] = Field(default_factory=dict)


# --- searches: one model per kind, a discriminated union ------------------------------


class PhoneSearch(_Model):
    by: Literal["phone"] = "phone"
    number: str  # as the platform gave it (ANI); adapters normalise with crm.phone
    record_types: list[str] | None = None  # None: the adapter's default caller types
    limit: int = 25


class EmailSearch(_Model):
    by: Literal["email"] = "email"
    email: str
    record_types: list[str] | None = None
    limit: int = 25


class TextSearch(_Model):
    """Free text from an agent: matches names (and whatever the CRM's text search covers)."""

    by: Literal["text"] = "text"
    text: str
    record_types: list[str] | None = None
    limit: int = 25


class IdSearch(_Model):
    by: Literal["id"] = "id"
    record_type: str
    id: str


class Condition(_Model):
    field: str
    operator: Literal["equals", "notequals"] = "equals"
    value: str


class DynamicSearch(_Model):
    """The workflow model's dynamic search: one record type, conditions joined by and/or."""

    by: Literal["dynamic"] = "dynamic"
    record_type: str
    conditions: list[Condition]
    join: Literal["and", "or"] = "and"
    limit: int = 25


def check_conditions(conditions: Sequence[Condition], join: str) -> None:
    """A dynamic search's conditions can be built into a query: at least one, joined by
    ``and`` or ``or`` (``InputError`` naming the part otherwise)."""
    if not conditions:
        raise InputError("A dynamic search needs at least one condition", field="conditions")
    if join not in ("and", "or"):
        raise InputError(f"Unknown join {join!r}", field="join")


SearchQuery = Annotated[
    PhoneSearch | EmailSearch | TextSearch | IdSearch | DynamicSearch,
    Field(discriminator="by"),
]


class TimelineActivity(_Model):
    """An activity (task, note, call log) linked to one record.

    ``key`` is an idempotency key (for example ``interactionId:recordType:recordId``):
    an adapter must not create a second activity for the same key; it stores the key where
    the CRM lets it (external id, call object, a marker in the body) and checks first.
    """

    key: str
    record_type: str
    record_id: str
    subject: str
    direction: Literal["inbound", "outbound"] | None = None
    channel: Literal["voice", "digital"] = "voice"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    disposition: str | None = None
    notes: str | None = None
    agent_name: str | None = None
    phone_number: str | None = None


class TimelineRef(_Model):
    id: str
    type: str  # the CRM's activity type, e.g. "Task", "phonecall", "ticket_comment"
    created: bool = True  # False when an earlier activity with the same key was found


class RecordWrite(_Model):
    """A memorialization job's writes to one record: mapped field values (empty: none) and
    its timeline activity (``None``: none), sent in as few CRM requests as the vendor allows.

    ``activity_may_exist``: an earlier attempt may have sent the activity (it crashed, timed
    out or was cancelled after sending), so the adapter looks its key up before creating it.
    On a first attempt nothing can have been sent, and the look-up is skipped.
    """

    record_type: str
    record_id: str
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    activity: TimelineActivity | None = None
    activity_may_exist: bool = True
