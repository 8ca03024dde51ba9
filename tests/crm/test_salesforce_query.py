"""The pure SOQL/SOSL builders, on their own and evaluated by the simulator's parser."""

from __future__ import annotations

import pytest

from crm.adapters.salesforce.query import (
    ReturningSpec,
    build_dynamic_where,
    build_phone_sosl,
    build_select,
    build_where_equals,
    build_where_like,
    check_api_name,
    escape_sosl_term,
    quote_soql_value,
    soql_like_pattern,
    sosl_phone_terms,
)
from crm.errors import CrmRejectedError, InputError
from crm.models import Condition
from crm.phone import phone_variants
from tests.crm.dataset import HOSTILE_INPUTS
from tests.crm.sim_salesforce import SalesforceSim, SfError, parse_find, parse_soql

NASTY = HOSTILE_INPUTS + [
    "O'Brien",
    "back\\slash",
    "100%",
    "a_b",
    "{x}",
    "line\nbreak",
    'quote"d',
    "\\'",
    "\\",
    "'",
    "%_%",
    "tab\there",
    "nul\x00byte",
]


def test_quote_soql_value_escapes_quotes_backslashes_and_controls() -> None:
    assert quote_soql_value("O'Brien") == "'O\\'Brien'"
    assert quote_soql_value("a\\b") == "'a\\\\b'"
    assert quote_soql_value('say "hi"\n') == "'say \\\"hi\\\"\\n'"
    assert quote_soql_value("x\x00y\x07") == "'xy'"


def test_like_pattern_makes_wildcards_literal() -> None:
    assert soql_like_pattern("100%_a") == "'%100\\%\\_a%'"
    assert soql_like_pattern("it's", contains=False) == "'it\\'s'"


def test_sosl_term_escapes_every_reserved_character() -> None:
    assert escape_sosl_term("a-b") == '"a\\-b"'
    assert (
        escape_sosl_term("} RETURNING User(Id) FIND {") == '"\\} RETURNING User\\(Id\\) FIND \\{"'
    )
    assert escape_sosl_term('x"y\\') == '"x\\"y\\\\"'


@pytest.mark.parametrize(
    "name", ["Contact", "Customer_Tier__c", "ns__Thing__c", "Account.Name", "Project__r.Name"]
)
def test_valid_api_names_pass(name: str) -> None:
    assert check_api_name(name, path=True) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Name'",
        "Name OR Id",
        "1abc",
        "a__b__c__d",
        "Id)",
        "Name--",
        "x" * 10 + " ",
        "Account.Name",
    ],
)
def test_invalid_api_names_are_refused(name: str) -> None:
    with pytest.raises(CrmRejectedError):
        check_api_name(name)


def test_dynamic_where_joins_conditions_and_quotes_values() -> None:
    where = build_dynamic_where(
        [
            Condition(field="LastName", value="O'Brien"),
            Condition(field="Email", operator="notequals", value="x"),
        ],
        "or",
    )
    assert where == "(LastName = 'O\\'Brien' OR Email != 'x')"
    with pytest.raises(CrmRejectedError):
        build_dynamic_where([Condition(field="Name) OR (Id", value="x")], "and")
    with pytest.raises(InputError):
        build_dynamic_where([], "and")


def test_phone_terms_are_digits_only() -> None:
    terms = sosl_phone_terms(phone_variants("+49 30 1234567", "DE"))
    # E.164, national, "+49 (0)30 ..." and "0049 30 ..." digits, and without trunk prefix
    assert terms == ["49301234567", "0301234567", "490301234567", "301234567", "0049301234567"]
    assert all(t.isdigit() for t in terms)
    assert sosl_phone_terms(phone_variants("*", "DE")) == []
    assert sosl_phone_terms(phone_variants("} RETURNING User(Id) FIND {", "DE")) == []


def test_phone_sosl_shape() -> None:
    sosl = build_phone_sosl(["4930"], [ReturningSpec("Contact", ("Id", "Name"), limit=5)], 5)
    assert sosl == 'FIND {"4930"} IN PHONE FIELDS RETURNING Contact(Id, Name LIMIT 5) LIMIT 5'
    with pytest.raises(InputError):
        build_phone_sosl([], [ReturningSpec("Contact", ("Id",))], 5)


# --- evaluated by the simulator's SOQL/SOSL parser: a value matches only itself ---------


def _sim_with(values: list[str]) -> SalesforceSim:
    sim = SalesforceSim()
    sim.records["Account"].clear()
    for value in values:
        sim.insert("Account", {"Name": value})
    return sim


@pytest.mark.parametrize("value", NASTY)
def test_equals_literal_matches_exactly_itself(value: str) -> None:
    cleaned = "".join(ch for ch in value if ch >= " " or ch in "\n\r\t\b\f")
    sim = _sim_with(NASTY + ["anything else", ""])
    select = parse_soql(
        build_select("Account", ["Id", "Name"], build_where_equals(["Name"], value))
    )
    names = [r["Name"] for r in sim._select(select)]
    assert names == [v for v in NASTY if v.lower() == cleaned.lower()]


@pytest.mark.parametrize("value", NASTY)
def test_like_literal_matches_only_names_containing_it(value: str) -> None:
    cleaned = "".join(ch for ch in value if ch >= " " or ch in "\n\r\t\b\f")
    sim = _sim_with(NASTY + ["plain"])
    select = parse_soql(build_select("Account", ["Name"], build_where_like(["Name"], value)))
    names = sorted(r["Name"] for r in sim._select(select))
    assert names == sorted(v for v in NASTY + ["plain"] if cleaned.lower() in v.lower())
    assert "plain" not in names or cleaned.lower() in "plain"


@pytest.mark.parametrize("value", NASTY)
def test_escaped_sosl_phrase_is_one_phrase(value: str) -> None:
    phrase = " ".join("".join(ch for ch in value if ch >= " " or ch in "\n\r\t").split())
    if len(phrase) < 2:  # SOSL refuses one-character terms: an error, never a wider match
        with pytest.raises(SfError, match="longer than one character"):
            parse_find("FIND {" + escape_sosl_term(value) + "} IN ALL FIELDS RETURNING Account")
        return
    phrases, rest = parse_find(
        "FIND {" + escape_sosl_term(value) + "} IN ALL FIELDS RETURNING Account(Id)"
    )
    assert phrases == [phrase]
    assert rest.strip() == "IN ALL FIELDS RETURNING Account(Id)"


def test_unescaped_input_would_widen_the_match() -> None:
    """Proves the parser used above catches injection: pasted raw, the value widens the
    search to every row; escaped, it matches nothing."""
    sim = _sim_with(["x", "y"])
    hostile = "a' OR Name LIKE '%"
    naive = parse_soql(f"SELECT Name FROM Account WHERE Name = '{hostile}'")
    assert len(sim._select(naive)) == 2
    escaped = parse_soql(build_select("Account", ["Name"], build_where_equals(["Name"], hostile)))
    assert sim._select(escaped) == []
    with pytest.raises(SfError):  # mixing AND/OR without parentheses is malformed SOQL
        parse_soql("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Id = 'c'")
    with pytest.raises(SfError):
        parse_find("FIND {} RETURNING User(Id) FIND {} IN ALL FIELDS RETURNING Account(Id)")
