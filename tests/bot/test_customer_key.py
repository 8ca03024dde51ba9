"""An interaction's customer key (what its history is found by) is the caller number's first
search form: E.164 when it parses, else its digits; an address for a digital contact."""

from __future__ import annotations

import pytest

from bot.interactions.event_rows import _customer_key
from crm.phone import phone_variants


@pytest.mark.parametrize(
    "address",
    [
        "+49 30 1234567",
        "030 1234567",
        "(030) 1234567",
        "+1 212 555 0100",
        "12",
        "Tel 1",
        "anonymous",
        "",
    ],
)
def test_a_voice_key_is_the_first_search_form_of_the_number(address: str) -> None:
    variants = phone_variants(address, "DE")
    expected = variants.e164 or (variants[0] if variants else "")
    assert _customer_key("voice", address, "DE") == expected


def test_keys_of_known_numbers() -> None:
    assert _customer_key("voice", "030 1234567", "DE") == "+49301234567"
    assert _customer_key("voice", "Tel 1", "DE") == "1"  # not a possible number: its digits
    assert _customer_key("voice", "anonymous", "DE") == ""
    assert _customer_key("digital", "Anna@Example.com", "DE") == "anna@example.com"
