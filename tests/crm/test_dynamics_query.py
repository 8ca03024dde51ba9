"""The pure OData filter builders, on their own and evaluated by the simulator's parser."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from crm.adapters.dynamics.query import (
    any_of,
    build_dynamic_filter,
    build_phone_filter,
    check_logical_name,
    contains,
    encode_query,
    eq,
    is_guid,
    like_literal,
    phone_digits_pattern,
    quote_odata_string,
)
from crm.errors import CrmRejectedError, InputError
from crm.models import Condition
from crm.phone import phone_variants
from tests.crm.dataset import HOSTILE_INPUTS, PEOPLE
from tests.crm.sim_dynamics import DataverseSim, DvError, FilterParser

NASTY = HOSTILE_INPUTS + [
    "O'Brien",
    "100%",
    "a_b",
    "[x]",
    "[%]",
    "''",
    "'",
    "%",
    "_",
    "[",
    "a+b",
    "x&$filter=1",
    "tab\there",
    "nul\x00byte",
    "' or 1 eq 1",
]


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch >= " " or ch in "\n\r\t")


def test_quoting_doubles_single_quotes() -> None:
    assert quote_odata_string("O'Brien") == "'O''Brien'"
    assert quote_odata_string("' or 1 eq 1") == "''' or 1 eq 1'"


def test_like_literal_brackets_wildcards() -> None:
    assert like_literal("100%_[a]") == "'100[%][_][[]a]'"


def test_names_and_guids_are_checked() -> None:
    assert check_logical_name("new_callnotes") == "new_callnotes"
    for bad in ["Fullname", "name eq 'x' or 1", "a-b", "", "x)"]:
        with pytest.raises(CrmRejectedError):
            check_logical_name(bad)
    assert is_guid("6f9619ff-8b86-d011-b42d-00c04fc964ff")
    assert not is_guid("6f9619ff-8b86-d011-b42d-00c04fc964ff) or (1 eq 1")


def test_dynamic_filter() -> None:
    assert (
        build_dynamic_filter(
            [
                Condition(field="lastname", value="O'Brien"),
                Condition(field="jobtitle", operator="notequals", value="x"),
            ],
            "and",
        )
        == "(lastname eq 'O''Brien' and jobtitle ne 'x')"
    )
    with pytest.raises(InputError):
        build_dynamic_filter([], "or")
    with pytest.raises(InputError):
        any_of([])


def test_phone_pattern_uses_the_national_significant_digits() -> None:
    assert phone_digits_pattern(phone_variants("+49 89 5551212")) == "8%9%5%5%5%1%2%1%2"
    assert phone_digits_pattern(phone_variants("089 / 555 1212", "DE")) == "8%9%5%5%5%1%2%1%2"
    assert phone_digits_pattern(phone_variants("*")) is None
    assert phone_digits_pattern(phone_variants("' OR 1=1 --")) is None
    assert build_phone_filter([], phone_variants("+49895551212")) is None
    assert (
        build_phone_filter(["telephone1", "mobilephone"], phone_variants("+49 30 1234567"))
        == "(contains(telephone1,'3%0%1%2%3%4%5%6%7') or contains(mobilephone,'3%0%1%2%3%4%5%6%7'))"
    )


def test_encode_query_percent_encodes_plus_and_wildcards() -> None:
    query = encode_query({"$filter": "telephone1 eq '+49 30'", "$select": "a,b"})
    assert query == "$filter=telephone1%20eq%20%27%2B49%2030%27&$select=a%2Cb"
    assert parse_qs(query)["$filter"] == ["telephone1 eq '+49 30'"]


# --- evaluated by the simulator's parser: a value matches only itself ------------------


def _sim_with(values: list[str]) -> DataverseSim:
    sim = DataverseSim()
    sim.records["account"].clear()
    for value in values:
        sim.insert("account", {"name": value})
    return sim


def _names(sim: DataverseSim, filter_: str) -> list[str]:
    # round-trip through URL encoding and decoding, as the request does
    decoded = parse_qs(encode_query({"$filter": filter_}))["$filter"][0]
    predicate = FilterParser(decoded, "account").parse()
    return sorted(r["name"] for r in sim.records["account"].values() if predicate(r))


@pytest.mark.parametrize("value", NASTY)
def test_eq_matches_exactly_itself(value: str) -> None:
    sim = _sim_with(NASTY + ["other"])
    assert _names(sim, eq("name", value)) == sorted(
        v for v in NASTY + ["other"] if v.lower() == _clean(value).lower()
    )


@pytest.mark.parametrize("value", NASTY)
def test_contains_matches_only_names_containing_it(value: str) -> None:
    sim = _sim_with(NASTY + ["plain"])
    assert _names(sim, contains("name", value)) == sorted(
        v for v in NASTY + ["plain"] if _clean(value).lower() in v.lower()
    )


def test_unescaped_input_would_widen_the_match() -> None:
    sim = _sim_with(["x", "y"])
    hostile = "' or name ne 'zz"
    naive = FilterParser(f"name eq '{hostile}'", "account").parse()
    assert sum(1 for r in sim.records["account"].values() if naive(r)) == 2
    assert _names(sim, eq("name", hostile)) == []
    with pytest.raises(DvError):  # broken quoting is a syntax error, never a silent match
        FilterParser("name eq 'a'b'", "account").parse()
    widened = FilterParser("contains(name,'%')", "account").parse()
    assert sum(1 for r in sim.records["account"].values() if widened(r)) == 2
    assert _names(sim, contains("name", "%")) == []


def test_phone_filter_finds_every_stored_form() -> None:
    sim = DataverseSim()
    filter_ = build_phone_filter(["telephone1", "mobilephone"], phone_variants("+49895551212"))
    assert filter_ is not None
    decoded = parse_qs(encode_query({"$filter": filter_}))["$filter"][0]
    predicate = FilterParser(decoded, "contact").parse()
    found = sorted(r["fullname"] for r in sim.records["contact"].values() if predicate(r))
    assert found == sorted(p.full_name for p in PEOPLE if p.last_name == "Fischer")
