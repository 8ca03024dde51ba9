"""Pure Adaptive Card builders: view data in (``cards.view``), wire dicts out.

Nothing here does I/O or knows the bot; ``bot/`` fills the view models and sends the dicts.
"""

from cards.card_json import (
    ADAPTIVE_CARD_CONTENT_TYPE,
    CARD_BYTE_BUDGET,
    MAX_CARD_BYTES,
    THUMBNAIL_CARD_CONTENT_TYPE,
    card_size_bytes,
    without_universal_actions,
)
from cards.card_notices import build_notices_card, is_read_only_card
from cards.customer_card import MAX_REFRESH_USERS, SEARCH_ID, build_customer_card
from cards.forms import build_form_card, task_continue, task_message
from cards.i18n import has_message, pick_locale, translate
from cards.messages import WHOAMI_FIELDS, build_help_card, build_notice_card, build_whoami_card
from cards.search_results import build_compose_extension_result, build_search_attachment

__all__ = [
    "ADAPTIVE_CARD_CONTENT_TYPE",
    "CARD_BYTE_BUDGET",
    "MAX_CARD_BYTES",
    "MAX_REFRESH_USERS",
    "SEARCH_ID",
    "THUMBNAIL_CARD_CONTENT_TYPE",
    "WHOAMI_FIELDS",
    "build_compose_extension_result",
    "build_customer_card",
    "build_form_card",
    "build_help_card",
    "build_notice_card",
    "build_notices_card",
    "build_search_attachment",
    "build_whoami_card",
    "card_size_bytes",
    "has_message",
    "is_read_only_card",
    "pick_locale",
    "task_continue",
    "task_message",
    "translate",
    "without_universal_actions",
]
