"""WHERE clauses of the demo CRM's searches, built from SQLAlchemy expressions.

Every value reaches the database as a bound parameter; field names are only ever looked up
in the type's metadata, never pasted into SQL. The phone, email and text clauses compare
with a bound parameter given to them, so a statement built from them is built once per
record type and reused (:mod:`crm.demo_statements`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Column, ColumnElement, and_, false, func, literal, or_
from sqlalchemy.sql.elements import UnaryExpression

from ..errors import CrmRejectedError
from ..models import Condition, FieldType
from .schema import TABLES, TypeSpec, digits_column
from .values import condition_value

__all__ = [
    "phone_clause",
    "email_clause",
    "text_clause",
    "dynamic_clause",
    "title_order",
    "title_columns",
]

_CASE_INSENSITIVE = {
    FieldType.TEXT,
    FieldType.LONG_TEXT,
    FieldType.EMAIL,
    FieldType.URL,
    FieldType.PHONE,
    FieldType.PICKLIST,
}


def phone_clause(spec: TypeSpec, keys: BindParameter[Any]) -> ColumnElement[bool]:
    """Any phone field of the type whose normalised digits are among ``keys`` (an expanding
    parameter bound to ``phone_search_keys``)."""
    table = TABLES[spec.name]
    if not spec.phone_fields:
        return false()
    return or_(*(table.c[digits_column(name)].in_(keys) for name in spec.phone_fields))


def email_clause(spec: TypeSpec, email: BindParameter[Any]) -> ColumnElement[bool]:
    """Any email field equal to ``email`` (bound to the address, stripped and lower-cased),
    ignoring case."""
    table = TABLES[spec.name]
    if not spec.email_fields:
        return false()
    return or_(*(func.lower(table.c[name]) == email for name in spec.email_fields))


def text_clause(spec: TypeSpec, pattern: BindParameter[Any]) -> ColumnElement[bool]:
    """A name field (or the full name) matches ``pattern`` (bound to ``like_contains`` of the
    text: contains it, wildcards escaped), ignoring case."""
    table = TABLES[spec.name]
    clauses = [table.c[name].ilike(pattern, escape="\\") for name in spec.name_fields]
    if len(spec.title_fields) > 1:
        full_name: ColumnElement[Any] = func.coalesce(table.c[spec.title_fields[0]], literal(""))
        for name in spec.title_fields[1:]:
            full_name = full_name + literal(" ") + func.coalesce(table.c[name], literal(""))
        clauses.append(full_name.ilike(pattern, escape="\\"))
    return or_(*clauses)


def _condition(spec: TypeSpec, condition: Condition) -> ColumnElement[bool]:
    table = TABLES[spec.name]
    info = spec.field(condition.field)
    if condition.field == "id":
        column, value = table.c.id, condition.value
        equal: ColumnElement[bool] = column == value
    elif info is None:
        raise CrmRejectedError(
            f"{spec.info.label} has no field {condition.field!r}",
            field=condition.field,
            vendor_status=400,
            params={"field": condition.field, "record_type": spec.name},
        )
    else:
        column = table.c[info.name]
        value = condition_value(info, condition.value, spec.name)
        if info.type in _CASE_INSENSITIVE:
            equal = func.lower(column) == str(value).lower()
        else:
            equal = column == value
    if condition.operator == "equals":
        return equal
    # "notequals" includes empty fields, as the CRMs' query languages do
    return or_(column.is_(None), ~equal)


def dynamic_clause(spec: TypeSpec, conditions: list[Condition], join: str) -> ColumnElement[bool]:
    """Conditions on known fields joined by and/or; an unknown field is refused by name."""
    if not conditions:
        raise CrmRejectedError(
            "A dynamic search needs at least one condition", field="conditions", vendor_status=400
        )
    clauses = [_condition(spec, condition) for condition in conditions]
    return and_(*clauses) if join == "and" else or_(*clauses)


def title_columns(spec: TypeSpec) -> list[Column[Any]]:
    """The columns results are ordered by: title fields (last name first for people), id."""
    table = TABLES[spec.name]
    return [table.c[name] for name in reversed(spec.title_fields)] + [table.c.id]


def title_order(spec: TypeSpec) -> list[UnaryExpression[object]]:
    """A stable order for results: by title fields (last name first for people), then id."""
    return [column.asc() for column in title_columns(spec)]
