"""Phone numbers for caller look-ups: the forms an ANI is searched in, and the one rule that
decides whether a stored number is the caller's. Pure functions, no I/O.

The rule (``stored_number_matches``): a stored number that parses with the configured default
region is compared as a full E.164 number, so ``(030) 1234567`` in a German CRM is
``+49301234567`` and never the Austrian caller ``+43 30 1234567``. Only a stored value that does
not parse is compared on digits: written with a country (``+`` or the region's international
prefix), on its international digits; written without, on national digits, and only when the
caller's country is the default region's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

__all__ = [
    "PhoneVariants",
    "phone_variants",
    "e164_number",
    "digits_only",
    "stored_number_matches",
    "any_stored_number_matches",
    "stored_number_key",
    "caller_number_keys",
]

_E164 = phonenumbers.PhoneNumberFormat.E164
_NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL
_INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL
_DIGIT_RUNS = re.compile(r"\d+")
# a run of what numbers are written with; letters end it (no vanity-letter conversion: "privat"
# after a number must not turn into digits)
_NUMBER_TEXT = re.compile(r"[+(]*\d[\d\s().\-/]*")


class PhoneVariants(tuple[str, ...]):
    """Distinct textual forms of one number, most specific first, plus what the matcher needs.

    ``e164``: the number in E.164 (None when the input does not parse); ``national``: its
    national format; ``national_digits``: national digits with the trunk prefix
    (``0301234567``); ``significant``: the national significant number (``301234567``);
    ``domestic``: the number's country is the default region's; ``digits``: the input's
    digits as given.
    """

    e164: str | None
    national: str | None
    national_digits: str | None
    significant: str | None
    domestic: bool
    digits: str


def digits_only(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone_variants(raw: str, default_region: str = "DE") -> PhoneVariants:
    """Every form ``raw``'s number is stored in, as text and as bare digits.

    For ``+49 30 1234567`` in region DE: ``+49301234567``, ``030 1234567``,
    ``+49 30 1234567``, ``+49 (0)30 1234567``, ``(030) 1234567``, ``030-1234567``,
    ``030/1234567``, ``30 1234567``, ``0049 30 1234567``, then the digits of each
    (``0301234567``, ``49301234567``, ``301234567``, ``490301234567``, ``0049301234567``).
    National forms are left out for a foreign number (they would be another number here).
    Stored numbers in CRMs are free text, so adapters search each form their API can compare
    and verify candidates with ``stored_number_matches``. An unparseable input yields just
    its digits, never an empty match-all.
    """
    parsed = _possible_number(raw, default_region)
    forms = _stored_forms(parsed, default_region) if parsed is not None else []
    digits = digits_only(raw)
    forms += [digits_only(form) for form in forms]
    forms.append(digits)
    variants = PhoneVariants(dict.fromkeys(form for form in forms if form))
    variants.digits = digits
    variants.e164 = variants.national = variants.national_digits = variants.significant = None
    variants.domestic = False
    if parsed is not None:
        variants.e164 = phonenumbers.format_number(parsed, _E164)
        variants.national = phonenumbers.format_number(parsed, _NATIONAL)
        variants.national_digits = digits_only(variants.national)
        variants.significant = phonenumbers.national_significant_number(parsed)
        variants.domestic = _domestic(parsed, default_region)
    return variants


def _stored_forms(parsed: phonenumbers.PhoneNumber, default_region: str) -> list[str]:
    """Textual forms people store ``parsed`` in, in a CRM whose default region is given."""
    international = phonenumbers.format_number(parsed, _INTERNATIONAL)
    national = phonenumbers.format_number(parsed, _NATIONAL)
    forms = [phonenumbers.format_number(parsed, _E164)]
    domestic = _domestic(parsed, default_region)
    if domestic:
        forms.append(national)
    forms.append(international)
    trunk = _trunk_prefix(parsed)
    groups = _DIGIT_RUNS.findall(national)
    without_trunk = None
    if trunk:  # "+49 (0)30 1234567"
        without_trunk = " ".join(g for g in [groups[0][len(trunk) :], *groups[1:]] if g)
        forms.append(f"+{parsed.country_code} ({trunk}){without_trunk}")
    if domestic and len(groups) > 1 and groups[0] != trunk:
        # "(030) 1234567", "030-1234567", "030/1234567"
        area, rest = groups[0], "".join(groups[1:])
        forms += [f"({area}) {' '.join(groups[1:])}", f"{area}-{rest}", f"{area}/{rest}"]
    if domestic and without_trunk:  # "30 1234567"
        forms.append(without_trunk)
    idd = _dialling_prefix(default_region)
    if idd:  # "0049 30 1234567"
        forms.append(idd + international[1:])
    return forms


def _trunk_prefix(parsed: phonenumbers.PhoneNumber) -> str | None:
    """The national (trunk) prefix the number's national format starts with, if any."""
    region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    trunk = phonenumbers.ndd_prefix_for_region(region, True)
    national = digits_only(phonenumbers.format_number(parsed, _NATIONAL))
    if not trunk or not national.startswith(trunk):
        return None
    if national[len(trunk) :] != phonenumbers.national_significant_number(parsed):
        return None
    return trunk


def _dialling_prefix(region: str) -> str | None:
    """The digits dialled before a country code in ``region`` ("00" in Germany), if fixed."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    prefix = metadata.preferred_international_prefix or metadata.international_prefix
    return prefix if prefix and prefix.isdigit() else None


def _domestic(parsed: phonenumbers.PhoneNumber, default_region: str) -> bool:
    return parsed.country_code == phonenumbers.country_code_for_region(default_region)


def e164_number(raw: str, default_region: str = "DE") -> str | None:
    """``phone_variants(raw, default_region).e164``, without formatting the other forms."""
    parsed = _possible_number(raw, default_region)
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, _E164)


def _number_text(text: str) -> str:
    """The part of ``text`` that is written like a number (the longest such run): a label
    or note around a stored number ("Tel.: 030 1234567 (Zentrale)") is left out."""
    runs = _NUMBER_TEXT.findall(text)
    return max(runs, key=lambda run: len(digits_only(run))) if runs else ""


def _possible_number(raw: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    text = _number_text(raw)
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def stored_number_key(stored: str, default_region: str = "DE") -> str | None:
    """What a free-text ``stored`` number is compared by: the digits of its E.164 form when it
    parses (with ``default_region``), its international digits when it does not but is written
    with a country (``+``, ``00``), else ``"n"`` and its digits (a national-only value).
    None without digits. Two values with one key are one number."""
    text = _number_text(stored)
    digits = digits_only(text)
    if not digits:
        return None
    parsed = _possible_number(text, default_region)
    if parsed is not None:
        return phonenumbers.format_number(parsed, _E164)[1:]
    international = _international_digits(text, default_region)
    return international if international else f"n{digits}"


def caller_number_keys(variants: PhoneVariants) -> tuple[str, ...]:
    """The ``stored_number_key`` values that are the caller's number: its E.164 digits (also
    written with the trunk prefix, ``+49 (0)30 ...``), and for a caller of the default region's
    country its national digits with and without trunk prefix. An unparseable caller matches
    only a national-only value with the same digits."""
    if variants.e164 is None:
        return (f"n{variants.digits}",) if variants.digits else ()
    international = variants.e164[1:]
    significant = variants.significant or ""
    keys = [international, international[: -len(significant)] + (variants.national_digits or "")]
    if variants.domestic:
        keys += [f"n{variants.national_digits}", f"n{significant}"]
    return tuple(dict.fromkeys(keys))


def stored_number_matches(stored: str, variants: PhoneVariants, default_region: str = "DE") -> bool:
    """True when a CRM's free-text ``stored`` number is the number ``variants`` came from.

    A stored number that parses (with ``default_region``) is compared as a full E.164
    number. One that does not is compared on digits: its international digits when written
    with a country, else its national digits, and then only for a caller of the default
    region's country. Adapters filter every phone-search candidate with this, so a search
    never returns a record whose number merely shares digits with the caller's.
    """
    key = stored_number_key(stored, default_region)
    return key is not None and key in caller_number_keys(variants)


def any_stored_number_matches(
    stored: Iterable[object], variants: PhoneVariants, default_region: str = "DE"
) -> bool:
    """``stored_number_matches`` over every phone entry of a record (empty entries skipped)."""
    return any(
        stored_number_matches(str(value), variants, default_region)
        for value in stored
        if value is not None and str(value).strip()
    )


def _international_digits(stored: str, default_region: str) -> str | None:
    """The digits after ``+`` or the region's international prefix; None without a country."""
    text = stored.strip().lstrip("(")
    if text.startswith("+"):
        return digits_only(text)
    idd = _dialling_prefix(default_region)
    digits = digits_only(text)
    if idd and text.startswith(idd) and digits.startswith(idd):
        return digits[len(idd) :]
    return None
