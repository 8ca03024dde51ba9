"""ROQL building with hostile input: quotes escaped, ';' refused, paths checked."""

from __future__ import annotations

import pytest

from crm.adapters.oracle.query import (
    comparison,
    dynamic_where,
    email_where,
    ids_where,
    phone_where,
    quote_roql,
    select,
    text_where,
)
from crm.errors import InputError
from crm.models import Condition
from tests.crm.dataset import HOSTILE_INPUTS
from tests.crm.sim_oracle import parse_where


def test_quotes_and_backslashes_are_escaped() -> None:
    assert quote_roql("O'Brien") == "'O\\'Brien'"
    assert quote_roql("a\\") == "'a\\\\'"


@pytest.mark.parametrize("value", HOSTILE_INPUTS + ["\\' OR 1=1", "'", "\\", "a\\'b"])
def test_hostile_values_stay_one_literal(value: str) -> None:
    # the simulator parses ROQL strictly: one comparison whose literal is the value
    assert parse_where(comparison("name.last", value)) == ("=", "name.last", value)


@pytest.mark.parametrize("value", ["a; DELETE", "x;", "line\nbreak", "\x00"])
def test_semicolons_and_control_characters_are_refused(value: str) -> None:
    with pytest.raises(InputError):
        quote_roql(value)


@pytest.mark.parametrize("path", ["name.first OR 1", "a'b", "x;y", "1abc", "a..b", ""])
def test_paths_are_identifiers(path: str) -> None:
    with pytest.raises(InputError):
        comparison(path, "x")


def test_phone_where_takes_digits_only() -> None:
    assert phone_where(["49301234567", "0301234567"]) == (
        "(phones.rawNumber = '49301234567' OR phones.rawNumber = '0301234567')"
    )
    with pytest.raises(InputError):
        phone_where(["12' OR '1"])
    with pytest.raises(InputError):
        phone_where([])


def test_text_where_for_one_and_two_words() -> None:
    one = parse_where(text_where("contact", "Fischer"))
    assert one[0] == "or"
    two = text_where("contact", "Anna Schmidt")
    assert "name.first = 'Anna' AND name.last = 'Schmidt'" in two
    assert text_where("incident", "late") == "(subject = 'late' OR lookupName = 'late')"


def test_dynamic_where_maps_fields_and_joins() -> None:
    paths = {"title": "title", "lastName": "name.last"}
    where = dynamic_where(
        [
            Condition(field="title", value="a"),
            Condition(field="lastName", operator="notequals", value="b"),
        ],
        "or",
        paths,
    )
    assert where == "(title = 'a' OR name.last != 'b')"
    assert parse_where(where)[0] == "or"
    with pytest.raises(InputError):
        dynamic_where([Condition(field="zz", value="a")], "and", paths)


def test_email_ids_and_select() -> None:
    assert email_where(" a@b.de ") == "emails.address = 'a@b.de'"
    assert ids_where(["1", "22"]) == "id IN (1, 22)"
    with pytest.raises(InputError):
        ids_where(["1 OR 1=1"])
    assert select("contacts", ["id", "name.first"], "id = 1") == (
        "SELECT id, name.first FROM contacts WHERE id = 1"
    )
