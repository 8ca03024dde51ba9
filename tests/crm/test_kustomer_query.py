"""Kustomer search bodies: JSON criteria, validated attribute names."""

from __future__ import annotations

import json

import pytest

from crm.adapters.kustomer.query import (
    dynamic_bodies,
    email_body,
    phone_body,
    search_attribute,
    text_body,
)
from crm.errors import InputError
from crm.models import Condition
from tests.crm.dataset import HOSTILE_INPUTS


def test_attributes_of_standard_and_custom_fields() -> None:
    assert search_attribute("customer", "email") == "customer_email"
    assert search_attribute("customer", "sharedPhone") == "customer_shared_phone"
    assert search_attribute("customer", "notesStr") == "customer_custom_notesStr"
    assert search_attribute("conversation", "status") == "conversation_status"


@pytest.mark.parametrize("name", ["a b", "x_custom", 'name"', "1abc", "", "a.b", "$where"])
def test_hostile_attribute_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        search_attribute("customer", name)


def test_unknown_record_type_is_refused() -> None:
    with pytest.raises(InputError):
        text_body("kobject", "x")


@pytest.mark.parametrize("value", HOSTILE_INPUTS)
def test_hostile_values_stay_json_strings(value: str) -> None:
    body = email_body(value)
    assert body["and"] == [{"customer_email": {"equals": value.strip()}}]
    assert json.loads(json.dumps(body)) == body


def test_phone_body_ors_own_and_shared_phones() -> None:
    body = phone_body(["+49301234567", "49301234567", "+49301234567"])
    assert body["queryContext"] == "customer" and body["and"] == []
    assert len(body["or"]) == 4
    assert {"customer_shared_phone": {"equals": "49301234567"}} in body["or"]


def test_empty_values_are_refused() -> None:
    with pytest.raises(InputError):
        email_body("  ")
    with pytest.raises(InputError):
        phone_body([])


def test_dynamic_bodies() -> None:
    a = Condition(field="notesStr", value="a")
    b = Condition(field="notesStr", operator="notequals", value="b")
    [both] = dynamic_bodies("customer", [a, b], "and")
    assert both["and"] == [{"customer_custom_notesStr": {"equals": "a"}}]
    assert both["not"] == [{"customer_custom_notesStr": {"equals": "b"}}]
    [either] = dynamic_bodies("customer", [a, Condition(field="name", value="c")], "or")
    assert len(either["or"]) == 2 and "not" not in either
    split = dynamic_bodies("customer", [a, b], "or")
    assert [("not" in body) for body in split] == [False, True]
