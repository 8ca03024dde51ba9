"""Property tests of crm.phone over generated numbers and the forms people store them in.

Numbers are valid numbers of several countries (phonenumbers' example numbers with random
subscriber digits); stored forms are written the way CRM users type them, with random
separators, independently of the search-term generator under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crm.phone import digits_only, phone_variants, stored_number_matches

REGIONS = (
    "DE",
    "AT",
    "CH",
    "GB",
    "US",
    "FR",
    "NL",
    "IT",
    "ES",
    "PL",
    "SE",
    "BE",
    "AU",
    "RU",
    "BR",
    "JP",
)
TYPES = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
SEPARATORS = (" ", "-", "/", ".", "", "  ")
INTERNATIONAL_STYLES = ("e164", "plus", "plus_trunk", "idd")
NATIONAL_STYLES = ("national", "paren_area", "no_trunk")

properties = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclass(frozen=True)
class Number:
    parsed: phonenumbers.PhoneNumber
    region: str

    @property
    def e164(self) -> str:
        return phonenumbers.format_number(self.parsed, phonenumbers.PhoneNumberFormat.E164)

    @property
    def cc(self) -> str:
        return str(self.parsed.country_code)

    @property
    def nsn(self) -> str:
        return phonenumbers.national_significant_number(self.parsed)

    @property
    def trunk(self) -> str:
        """The trunk prefix the national format starts with ("" if none)."""
        trunk = phonenumbers.ndd_prefix_for_region(self.region, True) or ""
        national = digits_only(self.format(phonenumbers.PhoneNumberFormat.NATIONAL))
        return trunk if trunk and national == trunk + self.nsn else ""

    @property
    def area_length(self) -> int:
        """Digits of the NSN in the national format's first group (area or mobile prefix)."""
        national = self.format(phonenumbers.PhoneNumberFormat.NATIONAL)
        first = ""
        for ch in national.lstrip("("):
            if not ch.isdigit():
                break
            first += ch
        return max(0, len(first) - len(self.trunk))

    def format(self, style: phonenumbers.PhoneNumberFormat) -> str:
        return phonenumbers.format_number(self.parsed, style)


@st.composite
def numbers(draw: st.DrawFn, regions: tuple[str, ...] = REGIONS) -> Number:
    region = draw(st.sampled_from(regions))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    assert example is not None
    nsn = phonenumbers.national_significant_number(example)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    parsed = phonenumbers.parse(f"+{example.country_code}{nsn[:-4]}{tail}")
    assume(phonenumbers.is_valid_number(parsed))
    return Number(parsed, phonenumbers.region_code_for_number(parsed) or region)


def _chunks(draw: st.DrawFn, digits: str) -> str:
    """``digits`` cut into random groups joined by random separators."""
    out, rest = "", digits
    while rest:
        size = draw(st.integers(1, max(1, len(rest))))
        out += rest[:size]
        rest = rest[size:]
        if rest:
            out += draw(st.sampled_from(SEPARATORS))
    return out


@st.composite
def stored_forms(draw: st.DrawFn, number: Number, styles: tuple[str, ...]) -> str:
    """``number`` as a person types it into a CRM of ``number.region``."""
    style = draw(st.sampled_from(styles))
    nsn, area = number.nsn, number.area_length
    head, tail = nsn[:area], nsn[area:]
    body = (
        f"{head}{draw(st.sampled_from(SEPARATORS))}{_chunks(draw, tail)}"
        if head
        else _chunks(draw, nsn)
    )
    if style == "e164":
        return number.e164
    if style == "plus":
        return f"+{number.cc}{draw(st.sampled_from((' ', '-', '')))}{body}"
    if style == "plus_trunk":
        trunk = f" ({number.trunk})" if number.trunk else " "
        return f"+{number.cc}{trunk}{body}"
    if style == "idd":
        return f"00{number.cc} {body}"
    if style == "national":
        return f"{number.trunk}{body}"
    if style == "paren_area":
        return f"({number.trunk}{head}) {_chunks(draw, tail)}" if head else number.trunk + body
    assert style == "no_trunk"
    return body


def _idd_ok(number: Number) -> bool:
    """``00`` dials abroad from the number's own region (not from the US or Brazil)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(number.region)
    return metadata is not None and "00" in (
        metadata.international_prefix,
        metadata.preferred_international_prefix,
    )


@properties
@given(data=st.data(), number=numbers())
def test_every_stored_form_of_the_callers_number_matches(data: st.DataObject, number: Number):
    styles = INTERNATIONAL_STYLES + NATIONAL_STYLES
    stored = data.draw(stored_forms(number, styles))
    assume(not stored.startswith("00") or _idd_ok(number))
    caller = data.draw(
        st.sampled_from(
            [
                number.e164,
                number.format(phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                number.format(phonenumbers.PhoneNumberFormat.NATIONAL),
            ]
        )
    )
    variants = phone_variants(caller, number.region)
    assert variants.e164 == number.e164
    assert stored_number_matches(stored, variants, number.region), (stored, caller)


@properties
@given(data=st.data(), number=numbers(), other_region=st.sampled_from(REGIONS))
def test_a_caller_from_another_country_with_the_same_digits_never_matches(
    data: st.DataObject, number: Number, other_region: str
):
    other_cc = phonenumbers.country_code_for_region(other_region)
    assume(other_cc != number.parsed.country_code)
    stored = data.draw(stored_forms(number, INTERNATIONAL_STYLES + NATIONAL_STYLES))
    assume(not stored.startswith("00") or _idd_ok(number))
    foreign = f"+{other_cc}{number.nsn}"
    variants = phone_variants(foreign, number.region)
    assert not stored_number_matches(stored, variants, number.region), (stored, foreign)
    # the national digits as the foreign caller's own national number: still not a match
    foreign_national = phone_variants(
        number.format(phonenumbers.PhoneNumberFormat.NATIONAL), other_region
    )
    if foreign_national.e164 != number.e164:
        assert not stored_number_matches(stored, foreign_national, number.region)


@properties
@given(data=st.data(), number=numbers(), position=st.integers(0, 30), digit=st.integers(0, 9))
def test_another_number_never_matches(
    data: st.DataObject, number: Number, position: int, digit: int
):
    nsn = number.nsn
    index = position % len(nsn)
    assume(nsn[index] != str(digit))
    other = phonenumbers.parse(f"+{number.cc}{nsn[:index]}{digit}{nsn[index + 1 :]}")
    assume(phonenumbers.is_possible_number(other))
    stored = data.draw(stored_forms(Number(other, number.region), INTERNATIONAL_STYLES))
    assume(not stored.startswith("00") or _idd_ok(number))
    variants = phone_variants(number.e164, number.region)
    assert not stored_number_matches(stored, variants, number.region), (stored, number.e164)


@properties
@given(data=st.data(), number=numbers())
def test_search_terms_include_the_digits_of_every_stored_form(data: st.DataObject, number: Number):
    """Digit-comparing searches (Salesforce SOSL, Oracle rawNumber) reach every stored form."""
    stored = data.draw(stored_forms(number, INTERNATIONAL_STYLES + NATIONAL_STYLES))
    assume(not stored.startswith("00") or _idd_ok(number))
    variants = phone_variants(number.e164, number.region)
    assert digits_only(stored) in {digits_only(form) for form in variants}, stored


@properties
@given(number=numbers())
def test_search_terms_include_the_usual_stored_texts(number: Number):
    """Text-comparing searches (HubSpot, Kustomer, ServiceNow) get each usual form verbatim."""
    variants = set(phone_variants(number.e164, number.region))
    national = number.format(phonenumbers.PhoneNumberFormat.NATIONAL)
    expected = {
        number.e164,
        national,
        number.format(phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        digits_only(national),
        number.nsn,
    }
    if number.trunk:  # "030 1234567" -> "30 1234567", "+49 (0)30 1234567"
        groups = re.findall(r"\d+", national)
        without = " ".join(g for g in [groups[0][len(number.trunk) :], *groups[1:]] if g)
        expected |= {without, f"+{number.cc} ({number.trunk}){without}"}
    head, tail = national.split(" ", 1) if " " in national else (national, "")
    if tail and head.isdigit() and head != number.trunk:
        rest = digits_only(tail)
        expected |= {f"({head}) {tail}", f"{head}-{rest}", f"{head}/{rest}"}
    if _idd_ok(number):
        intl = number.format(phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        expected.add("00" + intl[1:])
    assert expected <= variants, expected - variants


@properties
@given(text=st.text(st.characters(blacklist_categories=("Nd",)), max_size=30))
def test_text_without_digits_is_never_a_number(text: str):
    variants = phone_variants(text, "DE")
    assert "" not in variants
    assert not stored_number_matches(text, phone_variants("+49301234567", "DE"), "DE")


@properties
@given(number=numbers(), junk=st.sampled_from([" (Zentrale)", " ext. 12", " privat", "  "]))
def test_junk_around_a_stored_number_keeps_only_the_callers_match(number: Number, junk: str):
    national = number.format(phonenumbers.PhoneNumberFormat.NATIONAL) + junk
    same = phone_variants(number.e164, number.region)
    assert stored_number_matches(national, same, number.region), national
    for other_region in ("DE", "AT", "US", "GB"):
        other_cc = phonenumbers.country_code_for_region(other_region)
        if other_cc == number.parsed.country_code:
            continue
        foreign = phone_variants(f"+{other_cc}{number.nsn}", number.region)
        assert not stored_number_matches(national, foreign, number.region), (national, foreign)
