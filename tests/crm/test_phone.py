"""crm.phone: the forms an ANI is searched in."""

from __future__ import annotations

import pytest

from crm.phone import digits_only, e164_number, phone_variants


def test_e164_input_gives_every_form_most_specific_first() -> None:
    variants = phone_variants("+49 30 1234567")
    assert variants.e164 == "+49301234567"
    assert variants.national == "030 1234567"
    assert list(variants) == [
        "+49301234567",
        "030 1234567",
        "+49 30 1234567",
        "+49 (0)30 1234567",
        "(030) 1234567",
        "030-1234567",
        "030/1234567",
        "30 1234567",
        "0049 30 1234567",
        "49301234567",
        "0301234567",
        "490301234567",
        "301234567",
        "0049301234567",
    ]
    assert (variants.national_digits, variants.significant) == ("0301234567", "301234567")
    assert variants.domestic


def test_a_foreign_number_gets_no_national_forms() -> None:
    """``030 1234567`` in a German CRM is a German number: not a form of +43 30 1234567."""
    variants = phone_variants("+43 30 1234567", "DE")
    assert not variants.domestic
    assert "030 1234567" not in variants and "(030) 1234567" not in variants
    assert "0301234567" not in variants and "301234567" not in variants
    assert "+43301234567" in variants and "0043301234567" in variants


@pytest.mark.parametrize(
    "raw",
    [
        "+49301234567",
        "030 1234567",
        "(030) 123 45 67",
        "0049 30 1234567",
        "+49 (0)30 1234567",
        "030/1234567",
        "+49-30-1234567",
    ],
)
def test_human_formats_normalise_to_one_e164(raw: str) -> None:
    variants = phone_variants(raw)
    assert variants.e164 == "+49301234567"
    assert "0301234567" in variants and "49301234567" in variants


def test_the_default_region_decides_national_numbers() -> None:
    assert phone_variants("(617) 555-0142", "US").e164 == "+16175550142"
    assert phone_variants("(617) 555-0142", "US").national == "(617) 555-0142"
    assert phone_variants("020 7946 0018", "GB").e164 == "+442079460018"
    # an international number keeps its own country whatever the default region
    assert phone_variants("+1 (555) 010-2233", "DE").e164 == "+15550102233"


def test_forms_are_distinct() -> None:
    variants = phone_variants("+4930 1234567")
    assert len(variants) == len(set(variants))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("' OR 1=1 --", ("11",)),
        ("*", ()),
        ("", ()),
        ("anonymous", ()),
    ],
)
def test_unparseable_input_yields_only_its_digits_never_a_match_all(raw, expected) -> None:
    variants = phone_variants(raw)
    assert tuple(variants) == expected
    assert variants.e164 is None and variants.national is None
    assert "" not in variants


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+49 30 1234567", "DE"),
        ("030/1234567", "DE"),
        ("(617) 555-0142", "US"),
        ("020 7946 0018", "GB"),
        ("+1 (555) 010-2233", "DE"),
        ("12", "DE"),
        ("", "DE"),
        ("anonymous", "DE"),
        ("' OR 1=1 --", "DE"),
        ("+49 30 1234567 999999999", "DE"),
    ],
)
def test_e164_number_is_the_e164_variant(raw, region) -> None:
    assert e164_number(raw, region) == phone_variants(raw, region).e164


def test_digits_only_strips_everything_else() -> None:
    assert digits_only("+49 (0)30 / 123-45 67") == "490301234567"
    assert digits_only("no digits") == ""


# --- stored_number_matches: the check every adapter applies to phone-search candidates ---

from crm.phone import any_stored_number_matches, stored_number_matches  # noqa: E402


def test_a_formatted_stored_number_is_the_callers():
    caller = phone_variants("+49895551212", "DE")
    assert stored_number_matches("089 / 555 1212", caller, "DE")
    assert stored_number_matches("+49 (0)89 555-1212", caller, "DE")


def test_the_same_digits_in_another_country_are_not_the_callers():
    caller = phone_variants("+49301234567", "DE")
    assert not stored_number_matches("+43 30 1234567", caller, "DE")
    assert not stored_number_matches("+1 301234567", caller, "DE")


@pytest.mark.parametrize("stored", ["(030) 1234567", "030 1234567", "030-1234567", "30 1234567"])
def test_a_foreign_caller_never_matches_a_local_number(stored: str) -> None:
    """Issue #14: +43 30 1234567 used to find the customer stored as (030) 1234567."""
    caller = phone_variants("+43 30 1234567", "DE")
    assert not stored_number_matches(stored, caller, "DE")
    assert stored_number_matches(stored, phone_variants("+49 30 1234567", "DE"), "DE")


def test_an_unparseable_stored_value_compares_on_digits_only_where_that_is_safe() -> None:
    german = phone_variants("+49301234567", "DE")
    austrian = phone_variants("+43301234567", "DE")
    # no country written: national digits, for a caller of the default region's country only
    assert stored_number_matches("030 1234567 (Zentrale)", german, "DE")
    assert not stored_number_matches("030 1234567 (Zentrale)", austrian, "DE")
    # a country written: its international digits
    assert stored_number_matches("+49 30 1234567 Zentrale", german, "DE")
    assert stored_number_matches("0043 30 1234567 Zentrale", austrian, "DE")
    assert not stored_number_matches("0043 30 1234567 Zentrale", german, "DE")


def test_every_phone_entry_of_a_record_is_checked() -> None:
    caller = phone_variants("+491712345678", "DE")
    assert any_stored_number_matches(["+49 30 1234567", None, "", "0171 2345678"], caller, "DE")
    assert not any_stored_number_matches(["+49 30 1234567", None], caller, "DE")


def test_empty_or_digitless_stored_values_never_match():
    caller = phone_variants("+49895551212", "DE")
    assert not stored_number_matches("", caller, "DE")
    assert not stored_number_matches("n/a", caller, "DE")


def test_an_unparseable_caller_matches_only_the_same_unparseable_digits():
    caller = phone_variants("12345678901234567", "DE")  # too long to be a number anywhere
    assert caller.e164 is None
    assert stored_number_matches("1234567890-1234567", caller, "DE")
    assert not stored_number_matches("+1234567890-1234567", caller, "DE")
    assert not stored_number_matches("5552", caller, "DE")
