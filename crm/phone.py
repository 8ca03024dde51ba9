"""Phone-number normalisation for caller look-ups (ANI in, search variants out)."""

from __future__ import annotations

import phonenumbers

__all__ = ["PhoneVariants", "phone_variants", "digits_only"]


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
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
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
