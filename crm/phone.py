"""Phone-number normalisation for caller look-ups (ANI in, search variants out)."""

from __future__ import annotations

import phonenumbers

__all__ = [
    "PhoneVariants",
    "phone_variants",
    "e164_number",
    "digits_only",
    "stored_number_matches",
]


class PhoneVariants(tuple[str, ...]):
    """Distinct textual forms of one number, most specific first."""

    e164: str | None
    national: str | None


def digits_only(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def phone_variants(raw: str, default_region: str = "DE") -> PhoneVariants:
    """E.164, national, national digits and international digits forms of ``raw``.

    Stored numbers in CRMs are free text, so callers search each variant (or compare
    digits). An unparseable input yields just its digits, never an empty match-all.
    """
    forms: list[str] = []
    e164 = national = None
    parsed = _possible_number(raw, default_region)
    if parsed is not None:
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        forms += [e164, national, international, digits_only(national), digits_only(e164)]
    digits = digits_only(raw)
    if digits:
        forms.append(digits)
    seen: dict[str, None] = {}
    for form in forms:
        if form and form not in seen:
            seen[form] = None
    variants = PhoneVariants(seen)
    variants.e164 = e164
    variants.national = national
    return variants


def e164_number(raw: str, default_region: str = "DE") -> str | None:
    """``phone_variants(raw, default_region).e164``, without formatting the other forms."""
    parsed = _possible_number(raw, default_region)
    if parsed is None:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _possible_number(raw: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


def stored_number_matches(stored: str, variants: PhoneVariants, default_region: str = "DE") -> bool:
    """True when a CRM's free-text ``stored`` number is the number ``variants`` came from.

    Adapters whose query language can only over-approximate a phone match (token or wildcard
    searches) filter their results with this, so a phone search never returns a record whose
    number merely shares digits with the caller's.
    """
    digits = digits_only(stored)
    if not digits:
        return False
    if any(digits == digits_only(form) for form in variants):
        return True
    if variants.e164 is None:
        return False
    try:
        parsed = phonenumbers.parse(stored, default_region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == variants.e164
