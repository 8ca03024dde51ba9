"""Agent-facing text in English and German.

Every text the cards show, and every message the bot sends, is looked up here by key.
The catalogues are plain dicts, one module per language under ``cards.locales``; English
is the reference and the fallback.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from cards.locales import de, en

__all__ = [
    "CATALOGUES",
    "DEFAULT_LOCALE",
    "find_template",
    "has_message",
    "pick_locale",
    "translate",
]

DEFAULT_LOCALE = "en"

CATALOGUES: dict[str, dict[str, str]] = {
    "en": en.MESSAGES,
    "de": de.MESSAGES,
}


class _KeepMissing(dict[str, str]):
    """Leaves an unknown ``{placeholder}`` in place instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@functools.lru_cache(maxsize=256)  # called for every text of every card
def pick_locale(locale: str | None) -> str:
    """The catalogue language for a Teams/Bot Framework locale: ``de`` for any ``de-*``.

    >>> pick_locale("de-AT"), pick_locale("en-GB"), pick_locale(None)
    ('de', 'en', 'en')
    """
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-", 1)[0].strip().lower()
    return language if language in CATALOGUES else DEFAULT_LOCALE


def has_message(key: str) -> bool:
    """Whether ``key`` is in the reference (English) catalogue."""
    return key in CATALOGUES[DEFAULT_LOCALE]


def find_template(
    language: str, key: str, catalogues: Mapping[str, Mapping[str, str]] = CATALOGUES
) -> str:
    """The raw message for ``key`` in ``language``, else in English, else the key itself."""
    template = catalogues.get(language, {}).get(key)
    if template is None:
        template = catalogues[DEFAULT_LOCALE].get(key, key)
    return template


def translate(locale: str | None, key: str, **params: object) -> str:
    """The message ``key`` in the language of ``locale``, with ``{name}`` params filled in.

    Falls back to English when the language lacks the key, and to the key itself when no
    catalogue has it, so a missing translation never breaks a reply.
    """
    template = find_template(pick_locale(locale), key)
    if not params:
        return template
    return template.format_map(_KeepMissing({name: str(value) for name, value in params.items()}))
