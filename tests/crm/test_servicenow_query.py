"""ServiceNow encoded-query builders on their own: shapes and hostile input."""

from __future__ import annotations

import pytest

from crm.adapters.servicenow.query import (
    QueryValueError,
    check_table,
    dnf,
    dynamic_query,
    email_query,
    in_query,
    name_query,
    order_by_desc,
    phone_query,
    term,
    timeline_marker,
    timeline_text,
)
from crm.errors import CrmRejectedError
from crm.models import Condition, TimelineActivity

from .dataset import HOSTILE_INPUTS
from .sim_servicenow import parse_query

ROWS = [{"name": "x", "title": "a"}, {"name": "y", "title": "b"}, {"name": "z", "title": "c"}]


def _matching(query: str) -> list[str]:
    """Rows a query selects, with the simulator's parser (which splits like ServiceNow)."""
    matches, _ = parse_query(query, {"name", "title"})
    return [row["name"] for row in ROWS if matches(row)]


def test_why_values_are_checked_a_caret_would_inject_a_condition():
    # what an unchecked value does on the platform: one extra OR-ed condition
    assert _matching("title=nothing^ORname!=x") == ["y", "z"]


@pytest.mark.parametrize(
    "value",
    [
        "a^ORname!=x",
        "x^NQname!=x",
        "^",
        "a^^b",
        "x^EQ",
        "javascript:gs.getUserID()",
        "JavaScript:1",
        "a\nb",
    ],
)
def test_values_a_query_cannot_carry_are_refused(value):
    with pytest.raises(QueryValueError):
        term("title", "=", value)
    with pytest.raises(QueryValueError):
        email_query(value, ["email"])
    if "\n" not in value:  # a name search folds whitespace, line breaks included
        with pytest.raises(QueryValueError):
            name_query(value, "first_name", "last_name", "name")


@pytest.mark.parametrize("value", [v for v in HOSTILE_INPUTS if "^" not in v])
def test_other_hostile_values_are_literal_and_match_nothing(value):
    query = name_query(value, None, "title", "name")
    assert query.count("^NQ") == 1  # exactly the two groups built, nothing injected
    assert _matching(query) == []


def test_like_and_startswith_only_take_letters_and_digits():
    assert term("phone", "LIKE", "1212") == "phoneLIKE1212"
    for value in ("%", "12_3", "*", "a b"):
        with pytest.raises(QueryValueError):
            term("phone", "LIKE", value)


def test_in_lists_refuse_commas_inside_a_value():
    assert in_query("name", ["incident", "task"]) == "nameINincident,task"
    with pytest.raises(QueryValueError):
        in_query("name", ["a,b"])


@pytest.mark.parametrize("name", ["Name", "a b", "a=b", "a^b", "", "a..b", "x'", "1a"])
def test_field_names_outside_servicenows_shape_are_refused(name):
    with pytest.raises(CrmRejectedError):
        term(name, "=", "x")


@pytest.mark.parametrize("name", ["sys_user/../x", "sys_user?x", "Incident", ""])
def test_table_names_that_would_change_the_url_are_refused(name):
    with pytest.raises(CrmRejectedError):
        check_table(name)


def test_phone_query_is_an_or_of_tail_digits_and_exact_variants():
    query = phone_query(["+49895551212", "089 5551212"], "1212", ["phone"])
    assert query == "phoneLIKE1212^NQphone=+49895551212^NQphone=089 5551212"


def test_name_query_shapes():
    assert name_query("Fischer", "first_name", "last_name", "name") == (
        "name=Fischer^NQlast_name=Fischer^NQfirst_name=Fischer"
    )
    assert name_query("Anna Schmidt", "first_name", "last_name", None) == (
        "last_name=Anna Schmidt^NQfirst_name=Anna^last_name=Schmidt"
    )
    assert name_query("   ", "first_name", "last_name", "name") == ""


def test_dynamic_and_or_and_unrepresentable_values():
    eq_a = Condition(field="title", value="a")
    ne_b = Condition(field="name", operator="notequals", value="y")
    assert dynamic_query([eq_a, ne_b], "and") == "title=a^name!=y"
    assert dynamic_query([eq_a, ne_b], "or") == "title=a^ORname!=y"
    hostile = Condition(field="title", value="a^ORname!=x")
    assert dynamic_query([hostile, ne_b], "and") is None  # false conjunct: nothing matches
    assert dynamic_query([hostile, eq_a], "or") == "title=a"  # false disjunct dropped
    assert dynamic_query([hostile], "or") is None
    with pytest.raises(QueryValueError):  # dropping a != would widen the result
        dynamic_query([Condition(field="title", operator="notequals", value="x^y")], "and")
    with pytest.raises(CrmRejectedError):
        dynamic_query([Condition(field="no field", value="x")], "and")


def test_dnf_and_order():
    assert dnf([["a=1", "b=2"], [], ["c=3"]]) == "a=1^b=2^NQc=3"
    assert order_by_desc("a=1", "sys_updated_on") == "a=1^ORDERBYDESCsys_updated_on"
    with pytest.raises(CrmRejectedError):
        order_by_desc("a=1", "x^y")


def test_timeline_marker_hashes_the_key_and_ends_the_text():
    key = "int-1:sys_user:abc^ORx"
    marker = timeline_marker(key)
    assert marker == timeline_marker(key) != timeline_marker(key + "2")
    assert "^" not in marker and key not in marker
    text = timeline_text(
        TimelineActivity(
            key=key,
            record_type="incident",
            record_id="x",
            subject="Inbound call",
            direction="inbound",
            duration_seconds=93,
            notes="Invoice question",
        )
    )
    assert text.splitlines()[0] == "Inbound call" and text.endswith(marker)
    assert "93 s" in text and "Invoice question" in text
