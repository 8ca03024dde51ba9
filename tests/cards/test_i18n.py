"""The message catalogue: languages, fallbacks, and the keys the bot relies on."""

from __future__ import annotations

import inspect
import string

import pytest

import crm.errors
from cards import has_message, pick_locale, translate
from cards.i18n import CATALOGUES, find_template

BOT_KEYS = [
    "help_help",
    "help_whoami",
    "help_search",
    "help_simulate_call",
    "help_simulate_chat",
    "help_simulate_end",
    "not_assigned",
    "transferred",
    "error_generic",
    "field_required",
    "field_too_long",
    "no_matches",
    "several_matches",
    "one_match",
    "search_no_results",
    "record_created",
    "record_updated",
    "memorialization_failed",
    "not_installed",
    "simulate_dev_only",
    "unknown_command",
    "unknown_configuration",
    "configuration_inactive",
]


def _error_codes() -> set[str]:
    return {
        cls.code
        for _, cls in inspect.getmembers(crm.errors, inspect.isclass)
        if issubclass(cls, crm.errors.AppError)
    }


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("de", "de"),
        ("de-DE", "de"),
        ("de-AT", "de"),
        ("DE_ch", "de"),
        ("en-US", "en"),
        ("en", "en"),
        ("fr-FR", "en"),
        ("", "en"),
        (None, "en"),
        ("deu", "en"),
    ],
)
def test_pick_locale(locale: str | None, language: str) -> None:
    assert pick_locale(locale) == language


def test_translate_picks_the_language_and_fills_params() -> None:
    assert translate("de-DE", "field_too_long", max=80) == "Höchstens 80 Zeichen."
    assert translate("en-GB", "field_too_long", max=80) == "At most 80 characters."
    assert translate("fr-FR", "record_updated") == "Record saved."


def test_translate_falls_back_to_english_then_to_the_key() -> None:
    catalogues = {"en": {"both": "Both", "english": "Only in English"}, "de": {"both": "Beide"}}
    assert find_template("de", "both", catalogues) == "Beide"
    assert find_template("de", "english", catalogues) == "Only in English"
    assert find_template("de", "neither", catalogues) == "neither"
    assert translate("de", "no_such_key") == "no_such_key"
    assert not has_message("no_such_key") and has_message("one_match")


def test_a_missing_param_leaves_its_placeholder() -> None:
    assert translate("en", "field_too_long") == "At most {max} characters."
    assert translate("en", "more_hidden", count=3, extra="ignored") == "3 more not shown."


@pytest.mark.parametrize("key", BOT_KEYS)
def test_bot_keys_exist_in_both_languages(key: str) -> None:
    assert key in CATALOGUES["en"] and key in CATALOGUES["de"]
    assert CATALOGUES["en"][key] != CATALOGUES["de"][key] or key.startswith("help_")


def test_every_error_code_has_a_message() -> None:
    codes = _error_codes()
    assert {"error", "crm_rate_limited", "not_allowed"} <= codes
    for code in codes:
        assert code in CATALOGUES["en"] and code in CATALOGUES["de"]


def test_languages_have_the_same_keys_and_placeholders() -> None:
    english, german = CATALOGUES["en"], CATALOGUES["de"]
    assert set(english) == set(german)
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(german[key]), key
        assert text.strip() and german[key].strip()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
