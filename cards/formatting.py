"""Field values as card text in the card's locale: numbers and dates by Babel (CLDR data),
date-times by the Teams client (``DATE``/``TIME`` functions, in the agent's time zone),
yes/no from the message catalogue, links as Markdown."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from cards.i18n import pick_locale, translate
from cards.view import FieldView

__all__ = ["card_when", "field_text", "link"]


@functools.lru_cache(maxsize=64)
def _babel_locale(locale: str) -> Locale:
    """``de-AT`` -> de_AT; a tag Babel doesn't know -> the catalogue language's default."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse({"de": "de_DE"}.get(pick_locale(locale), "en_US"))


def field_text(field: FieldView, locale: str, *, empty: str, limit: int = 200) -> str:
    """The text a field shows on a card whose locale is ``locale`` (``en-US``, ``de-DE``),
    a long text cut to ``limit`` characters."""
    if not field.value:
        return empty
    text = _formatted(field, locale)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return link(text, field.url) if field.url else text


def _formatted(field: FieldView, locale: str) -> str:
    try:
        if field.kind == "number":
            return str(format_decimal(float(field.value), locale=_babel_locale(locale)))
        if field.kind == "date":
            day = date.fromisoformat(field.value[:10])
            return str(format_date(day, "medium", locale=_babel_locale(locale)))
        if field.kind == "datetime":
            return card_when(datetime.fromisoformat(field.value))
    except ValueError:
        return field.value  # not what the kind promised: shown as it came
    if field.kind == "boolean":
        return translate(locale, "value_yes" if field.value == "true" else "value_no")
    return field.value


def card_when(moment: datetime) -> str:
    """Date and time in the agent's own time zone and format, rendered by the Teams client.

    Adaptive Cards' DATE/TIME functions take an RFC 3339 UTC timestamp; naive values are UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def link(text: str, url: str) -> str:
    """A Markdown link; brackets in the text and parentheses in the URL escaped."""
    target = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    label = text.replace("[", "(").replace("]", ")")  # a "]" would end the link text
    return f"[{label}]({target})"
