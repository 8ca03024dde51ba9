"""Record types of the demo CRM: field metadata and the tables that hold them.

The types are data (``TYPES``), and the SQLAlchemy tables are generated from them on the demo
CRM's own ``MetaData`` (table names start with ``demo_crm_`` so the demo can even share a
database with the service without touching its schema). Every phone field gets a shadow
``<field>_digits`` column with the number's normalised digits, so a phone search compares
digit forms with an indexed equality instead of parsing every stored value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from ..models import FieldInfo, FieldType, FieldValue, RecordType
from .labels import GERMAN

__all__ = [
    "SeedRecord",
    "TypeSpec",
    "TYPES",
    "CALLER_TYPES",
    "TEXT_TYPES",
    "METADATA",
    "TABLES",
    "digits_column",
    "type_spec",
]

# a record to seed: (record type, key, fields); a value "@key" names an earlier record
SeedRecord = tuple[str, str, dict[str, FieldValue]]


@dataclass(frozen=True)
class TypeSpec:
    """One record type: metadata for forms and the rules search and related use."""

    info: RecordType
    prefix: str  # id prefix, e.g. "con"
    fields: tuple[FieldInfo, ...]
    title_fields: tuple[str, ...]  # joined with a space into the record's title
    name_fields: tuple[str, ...]  # what a text search looks in
    defaults: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)  # reference field -> parent key

    @property
    def name(self) -> str:
        return self.info.name

    def field(self, name: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def phone_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.type == FieldType.PHONE)

    @property
    def email_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.type == FieldType.EMAIL)


def _field(
    name: str,
    label: str,
    type_: FieldType,
    max_length: int | None,
    *,
    required: bool = False,
    createable: bool = True,
    updateable: bool = True,
    custom: bool = False,
) -> FieldInfo:
    return FieldInfo(
        name=name,
        label=label,
        type=type_,
        max_length=max_length,
        required=required,
        createable=createable,
        updateable=updateable,
        custom=custom,
    )


def _text(name: str, label: str, max_length: int, **kw: bool) -> FieldInfo:
    return _field(name, label, FieldType.TEXT, max_length, **kw)


def _long(name: str, label: str, max_length: int, **kw: bool) -> FieldInfo:
    return _field(name, label, FieldType.LONG_TEXT, max_length, **kw)


def _phone(name: str, label: str) -> FieldInfo:
    return FieldInfo(name=name, label=label, type=FieldType.PHONE, max_length=40)


def _email(name: str = "email", label: str = "Email") -> FieldInfo:
    return FieldInfo(name=name, label=label, type=FieldType.EMAIL, max_length=80)


def _pick(name: str, label: str, options: list[str], **kw: bool) -> FieldInfo:
    info = _field(name, label, FieldType.PICKLIST, 40, **kw)
    info.options = list(options)
    return info


def _ref(name: str, label: str, **kw: bool) -> FieldInfo:
    return _field(name, label, FieldType.REFERENCE, 40, **kw)


CASE_STATUSES = ["New", "Working", "Escalated", "Closed"]
PRIORITIES = ["Low", "Medium", "High"]

TYPES: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec(
            info=RecordType(name="account", label="Account"),
            prefix="acc",
            fields=(
                _text("name", "Account Name", 255, required=True),
                _phone("phone", "Phone"),
                FieldInfo(name="website", label="Website", type=FieldType.URL, max_length=255),
                _pick(
                    "industry",
                    "Industry",
                    ["Logistics", "Consulting", "Retail", "Energy", "Healthcare", "Private"],
                ),
                _text("customer_number", "Customer Number", 20),
                _text("billing_city", "Billing City", 40),
                _long("description", "Description", 32000),
            ),
            title_fields=("name",),
            name_fields=("name",),
        ),
        TypeSpec(
            info=RecordType(name="contact", label="Contact"),
            prefix="con",
            fields=(
                _text("first_name", "First Name", 40),
                _text("last_name", "Last Name", 80, required=True),
                _email(),
                _phone("phone", "Phone"),
                _phone("mobile_phone", "Mobile"),
                _text("title", "Title", 128),
                _text("department", "Department", 80),
                _ref("account_id", "Account"),
                _text("mailing_city", "Mailing City", 40),
                _pick("preferred_language", "Preferred Language", ["de", "en"]),
                _long("description", "Description", 32000),
            ),
            title_fields=("first_name", "last_name"),
            name_fields=("first_name", "last_name"),
            parents={"account_id": "account"},
        ),
        TypeSpec(
            info=RecordType(name="case", label="Case"),
            prefix="cas",
            fields=(
                _text("case_number", "Case Number", 30, createable=False, updateable=False),
                _text("subject", "Subject", 255, required=True),
                _long("description", "Description", 32000),
                _pick("status", "Status", CASE_STATUSES),
                _pick("priority", "Priority", PRIORITIES),
                _pick("origin", "Origin", ["Phone", "Email", "Web", "Chat"]),
                _ref("contact_id", "Contact"),
                _ref("account_id", "Account"),
                _long("internal_comments", "Internal Comments", 4000),
            ),
            title_fields=("subject",),
            name_fields=("subject", "case_number"),
            defaults={"status": "New", "priority": "Medium"},
            parents={"contact_id": "contact", "account_id": "account"},
        ),
        TypeSpec(
            info=RecordType(name="lead", label="Lead"),
            prefix="lea",
            fields=(
                _text("first_name", "First Name", 40),
                _text("last_name", "Last Name", 80, required=True),
                _text("company", "Company", 255, required=True),
                _email(),
                _phone("phone", "Phone"),
                _phone("mobile_phone", "Mobile"),
                _pick("status", "Lead Status", ["Open", "Contacted", "Qualified", "Unqualified"]),
                _pick(
                    "lead_source", "Lead Source", ["Phone Inquiry", "Web", "Partner", "Trade Show"]
                ),
                _long("description", "Description", 32000),
            ),
            title_fields=("first_name", "last_name"),
            name_fields=("first_name", "last_name", "company"),
            defaults={"status": "Open"},
        ),
        TypeSpec(
            info=RecordType(name="task", label="Task", supports_timeline=False),
            prefix="tsk",
            fields=(
                _text("subject", "Subject", 255, required=True),
                _long("description", "Comments", 32000),
                _pick("status", "Status", ["Not Started", "In Progress", "Completed"]),
                _pick("priority", "Priority", PRIORITIES),
                FieldInfo(name="due_date", label="Due Date", type=FieldType.DATE),
                _pick("task_type", "Type", ["Call", "Email", "Chat", "Other"]),
                _pick("call_direction", "Call Direction", ["inbound", "outbound"]),
                FieldInfo(
                    name="call_duration_seconds", label="Call Duration (s)", type=FieldType.NUMBER
                ),
                _text("call_disposition", "Call Result", 255),
                _text("agent_name", "Assigned To", 120),
                _phone("phone", "Phone"),
                _pick(
                    "related_type",
                    "Related To Type",
                    ["account", "contact", "case", "lead", "custom_subscription"],
                ),
                _ref("related_id", "Related To"),
                _text("activity_key", "Activity Key", 255, updateable=False),
            ),
            title_fields=("subject",),
            name_fields=("subject",),
            defaults={"status": "Not Started", "priority": "Medium"},
        ),
        TypeSpec(
            info=RecordType(name="custom_subscription", label="Subscription", standard=False),
            prefix="sub",
            fields=(
                _text("name", "Subscription Name", 80, required=True, custom=True),
                _pick("plan", "Plan", ["Basic", "Plus", "Premium"], custom=True),
                FieldInfo(
                    name="monthly_fee",
                    label="Monthly Fee (EUR)",
                    type=FieldType.NUMBER,
                    custom=True,
                ),
                FieldInfo(name="start_date", label="Start Date", type=FieldType.DATE, custom=True),
                _pick("status", "Status", ["Active", "Paused", "Cancelled"], custom=True),
                FieldInfo(
                    name="auto_renew", label="Auto Renew", type=FieldType.BOOLEAN, custom=True
                ),
                _ref("account_id", "Account", custom=True),
                _ref("contact_id", "Contact", custom=True),
                _long("notes", "Notes", 2000, custom=True),
            ),
            title_fields=("name",),
            name_fields=("name",),
            defaults={"status": "Active"},
            parents={"account_id": "account", "contact_id": "contact"},
        ),
    )
}


def _in_german(types: dict[str, TypeSpec]) -> None:
    for spec in types.values():
        for item in (spec.info, *spec.fields):
            item.labels = {"de": GERMAN[item.label]}


_in_german(TYPES)

# Types searched when a query names none: callers for phone and email, more for text.
CALLER_TYPES = ("contact", "lead", "account")
TEXT_TYPES = ("contact", "account", "lead", "case")


def type_spec(name: str) -> TypeSpec | None:
    return TYPES.get(name)


def digits_column(field_name: str) -> str:
    return f"{field_name}_digits"


def _column_type(info: FieldInfo) -> TypeEngine[Any]:
    if info.type == FieldType.LONG_TEXT:
        return Text()
    if info.type == FieldType.NUMBER:
        return Float()
    if info.type == FieldType.BOOLEAN:
        return Boolean()
    if info.type in (FieldType.DATE, FieldType.DATETIME):
        return String(32)
    return String(info.max_length or 255)


METADATA = MetaData()


def _table(spec: TypeSpec) -> Table:
    columns: list[Column[Any]] = [Column("id", String(40), primary_key=True)]
    for info in spec.fields:
        columns.append(Column(info.name, _column_type(info), nullable=True))
        if info.type == FieldType.PHONE:
            columns.append(Column(digits_column(info.name), String(24), index=True))
    columns += [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]
    table = Table(f"demo_crm_{spec.name}", METADATA, *columns)
    for ref in spec.parents:
        Index(f"ix_demo_crm_{spec.name}_{ref}", table.c[ref])
    return table


TABLES: dict[str, Table] = {name: _table(spec) for name, spec in TYPES.items()}
Index("ux_demo_crm_task_activity_key", TABLES["task"].c.activity_key, unique=True)
Index("ix_demo_crm_task_related", TABLES["task"].c.related_type, TABLES["task"].c.related_id)
