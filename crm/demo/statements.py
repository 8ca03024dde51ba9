"""The demo CRM's read statements, built once per shape and reused with bound values.

The demo CRM runs inside the service's process (and its benchmark), so its CPU time counts.
Building a SQLAlchemy statement and computing its cache key cost more than SQLite needs to
answer it, so the statements of the frequent reads are built once (per record type, or per
combination of record types) with their values as bound parameters, and one statement
answers what took one SELECT per record type: :func:`branch_union` puts each type's rows
one after the other, in the order and within the limit the single SELECTs had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Integer,
    Label,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import RowMapping

from ..models import EmailSearch, PhoneSearch, TextSearch
from .query import email_clause, phone_clause, text_clause, title_columns, title_order
from .schema import TABLES, TYPES, TypeSpec
from .values import like_contains, phone_search_keys

__all__ = [
    "Branch",
    "TypedSelect",
    "branch_union",
    "reference_columns",
    "reference_label",
    "row_statement",
    "search_statement",
    "search_values",
    "related_statement",
]

_BRANCH = "_branch"

# (record type, which of its rows, at most this many: a number or a bound parameter)
Branch = tuple[TypeSpec, ColumnElement[bool], int | ColumnElement[Any]]

_LIMIT = bindparam("limit", type_=Integer())
_MORE = bindparam("more", type_=Integer())  # related(): limit + 1 per kind of record
_ID = bindparam("id", type_=String())
_ACCOUNT_ID = bindparam("account_id", type_=String())
_CONTACT_ID = bindparam("contact_id", type_=String())
_KEYS = bindparam("keys", type_=String(), expanding=True)
_EMAIL = bindparam("email", type_=String())
_PATTERN = bindparam("pattern", type_=String())
# Values of their own: a list of plain values would be an "expanding" parameter, whose
# placeholders are rewritten in the statement's text on every execution.
_OPEN_CASE_STATUSES = [literal(status) for status in ("New", "Working", "Escalated")]


def reference_label(field: str) -> str:
    """The column that carries the display name of the record ``field`` points at."""
    return f"_ref_{field}"


def _title_of(spec: TypeSpec, record_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The title of the ``spec`` record whose id is ``record_id``, as a scalar subquery."""
    table = TABLES[spec.name]
    title: ColumnElement[Any] = func.coalesce(table.c[spec.title_fields[0]], literal(""))
    for name in spec.title_fields[1:]:
        title = title + literal(" ") + func.coalesce(table.c[name], literal(""))
    return select(func.trim(title)).where(table.c.id == record_id).scalar_subquery()


@lru_cache(maxsize=16)
def reference_columns(type_name: str) -> tuple[Label[Any], ...]:
    """Columns naming the records a row of the type refers to (its account, contact, a
    task's related record), so the card shows names instead of ids from the same
    statement; one indexed look-up per reference and row."""
    spec, table = TYPES[type_name], TABLES[type_name]
    columns = [
        _title_of(TYPES[parent], table.c[ref]).label(reference_label(ref))
        for ref, parent in spec.parents.items()
    ]
    if type_name == "task":  # related_type names the target's type
        targets = [
            (table.c.related_type == name, _title_of(target, table.c.related_id))
            for name, target in TYPES.items()
        ]
        columns.append(case(*targets, else_=null()).label(reference_label("related_id")))
    return tuple(columns)


@dataclass(frozen=True)
class TypedSelect:
    """A statement over rows of several record types, and which type each row is."""

    statement: CompoundSelect[Any]
    specs: tuple[TypeSpec, ...]  # by branch

    def spec_of(self, row: RowMapping) -> TypeSpec:
        return self.specs[int(row[_BRANCH])]


def branch_union(branches: Sequence[Branch], limit: Any = None) -> TypedSelect:
    """One statement returning what one SELECT per branch returns, one branch after the
    other: each branch's rows in title order and within its own limit, then at most
    ``limit`` rows in all. A row has the columns of every branch's table (NULL where its
    own table has none of that name)."""
    columns: dict[str, Column[Any]] = {}
    references: dict[str, None] = {}  # the names, in order
    for spec, _, _ in branches:
        for column in TABLES[spec.name].columns:
            columns.setdefault(column.name, column)
        for reference in reference_columns(spec.name):
            references.setdefault(reference.name)
    width = max(len(spec.title_fields) + 1 for spec, _, _ in branches)
    parts = []
    for index, (spec, where, branch_limit) in enumerate(branches):
        table = TABLES[spec.name]
        keys = [column.label(f"_order{i}") for i, column in enumerate(title_columns(spec))]
        keys += [cast(null(), String()).label(f"_order{i}") for i in range(len(keys), width)]
        values: list[Column[Any] | Label[Any]] = [
            table.c[name] if name in table.c else cast(null(), column.type).label(name)
            for name, column in columns.items()
        ]
        own = {reference.name: reference for reference in reference_columns(spec.name)}
        values += [own.get(name, cast(null(), String()).label(name)) for name in references]
        inner = (
            select(literal_column(str(index)).label(_BRANCH), *keys, *values)
            .where(where)
            .order_by(*title_order(spec))
            .limit(branch_limit)
            .subquery()
        )
        parts.append(select(inner))
    union = union_all(*parts)
    order = [_BRANCH] + [f"_order{i}" for i in range(width)]
    union = union.order_by(*(union.selected_columns[name] for name in order))
    return TypedSelect(
        union if limit is None else union.limit(limit), tuple(spec for spec, _, _ in branches)
    )


@lru_cache(maxsize=16)
def row_statement(type_name: str) -> Select[Any]:
    """One record by id (bound as ``id``)."""
    table = TABLES[type_name]
    return select(table, *reference_columns(type_name)).where(table.c.id == _ID)


def search_values(
    query: PhoneSearch | EmailSearch | TextSearch, region: str
) -> dict[str, Any] | None:
    """What :func:`search_statement` binds for the query; None when it cannot match."""
    if isinstance(query, PhoneSearch):
        keys = phone_search_keys(query.number, region)
        return {"keys": keys} if keys else None
    if isinstance(query, EmailSearch):
        email = query.email.strip().lower()
        return {"email": email} if email else None
    text = query.text.strip()
    return {"pattern": like_contains(text)} if text else None


def _search_clause(kind: str, spec: TypeSpec) -> ColumnElement[bool]:
    if kind == "phone":
        return phone_clause(spec, _KEYS)
    if kind == "email":
        return email_clause(spec, _EMAIL)
    return text_clause(spec, _PATTERN)


@lru_cache(maxsize=256)
def search_statement(kind: str, type_names: tuple[str, ...]) -> TypedSelect:
    """A phone, email or text search (``kind``: the query's ``by``) over the types, in
    their order, at most ``limit`` records; values bound as :func:`search_values` says."""
    specs = [TYPES[name] for name in type_names]
    return branch_union([(spec, _search_clause(kind, spec), _LIMIT) for spec in specs], _LIMIT)


@lru_cache(maxsize=64)
def related_statement(
    type_name: str, has_account: bool, has_contact: bool, more: bool
) -> TypedSelect | None:
    """The records related to one of the type: its account and contact (bound as
    ``account_id`` and ``contact_id``, present as the flags say), then, when ``more``,
    up to ``more`` (bound) other contacts of the account, open cases and active
    subscriptions of the contact or account. None when there is nothing to look for."""
    contacts, cases, subs = TABLES["contact"], TABLES["case"], TABLES["custom_subscription"]
    branches: list[Branch] = []
    if has_account and type_name != "account":
        branches.append((TYPES["account"], TABLES["account"].c.id == _ACCOUNT_ID, 1))
    if has_contact and type_name != "contact":
        branches.append((TYPES["contact"], contacts.c.id == _CONTACT_ID, 1))
    if more and has_account:
        branches.append((TYPES["contact"], contacts.c.account_id == _ACCOUNT_ID, _MORE))
    if more and (has_account or has_contact):
        case_owners = [cases.c.contact_id == _CONTACT_ID] if has_contact else []
        case_owners += [cases.c.account_id == _ACCOUNT_ID] if has_account else []
        open_cases = cases.c.status.in_(_OPEN_CASE_STATUSES) & or_(*case_owners)
        branches.append((TYPES["case"], open_cases, _MORE))
        sub_owners = [subs.c.contact_id == _CONTACT_ID] if has_contact else []
        sub_owners += [subs.c.account_id == _ACCOUNT_ID] if has_account else []
        active = (subs.c.status != "Cancelled") & or_(*sub_owners)
        branches.append((TYPES["custom_subscription"], active, _MORE))
    return branch_union(branches) if branches else None
