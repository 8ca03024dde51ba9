"""Zendesk search query building with hostile input: nothing may widen a search."""

from __future__ import annotations

import pytest

from crm.adapters.zendesk.query import (
    check_field_name,
    dynamic_queries,
    email_query,
    field_term,
    matches_email,
    matches_text,
    phone_query,
    quote_search_value,
    text_query,
)
from crm.errors import InputError
from crm.models import Condition
from tests.crm.sim_zendesk import parse_query


@pytest.mark.parametrize(
    "value",
    [
        'a" OR type:ticket "b',
        'x\\" -name:y',
        "email:* OR type:user",
        "-name:x",
        "(a OR b)",
        "Jo*",
        "O'Brien",
        "a:b:c",
    ],
)
def test_a_quoted_value_stays_one_phrase(value: str) -> None:
    quoted = quote_search_value(value)
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert '"' not in inner and "\\" not in inner and "*" not in inner
    # the simulator's parser (the real grammar's subset) sees exactly one term
    assert parse_query(f"name:{quoted}") == [(False, "name", inner)]


@pytest.mark.parametrize("value", ["*", '""', "\\", " * ", "\x00"])
def test_a_value_with_nothing_searchable_is_refused(value: str) -> None:
    with pytest.raises(InputError):
        quote_search_value(value)


@pytest.mark.parametrize("name", ["name) OR (x", "-name", "a b", "x:y", "", "type:user"])
def test_field_names_are_identifiers(name: str) -> None:
    with pytest.raises(InputError):
        check_field_name(name)


def test_phone_query_is_a_digit_suffix() -> None:
    assert phone_query("301234567") == "type:user phone:*301234567"
    with pytest.raises(InputError):
        phone_query("30 OR 1")


def test_email_and_text_queries() -> None:
    assert email_query("Anna@Example.de") == 'type:user email:"Anna@Example.de"'
    assert text_query("organization", "Fischer Haus") == 'type:organization name:"Fischer Haus"'
    assert text_query("ticket", "late") == 'type:ticket subject:"late"'
    with pytest.raises(InputError):
        text_query("user role:admin", "x")


def test_dynamic_and_is_one_query_and_or_is_one_per_condition() -> None:
    conditions = [
        Condition(field="notes", value="a"),
        Condition(field="notes", operator="notequals", value="b"),
    ]
    assert dynamic_queries("user", conditions, "and") == ['type:user notes:"a" -notes:"b"']
    assert dynamic_queries("user", conditions, "or") == [
        'type:user notes:"a"',
        'type:user -notes:"b"',
    ]


def test_dynamic_with_an_unsearchable_value() -> None:
    star = Condition(field="notes", value="*")
    with pytest.raises(InputError):
        dynamic_queries("user", [star], "and")
    kept = dynamic_queries("user", [star, Condition(field="notes", value="x")], "or")
    assert kept == ['type:user notes:"x"']


def test_negated_term() -> None:
    assert field_term("email", "a@b.c", negate=True) == '-email:"a@b.c"'


def test_result_rechecks() -> None:
    assert matches_text("Maria O'Brien", "o'brien")
    assert not matches_text("Maria O'Brien", "' OR 1=1 --")
    assert not matches_text("Anyone", "")
    assert matches_email(" Anna@Example.de", "anna@example.de ")
    assert not matches_email(None, "x")
