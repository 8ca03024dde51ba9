"""The package's surface: exported names, and no dependency on the bot or on HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import cards

CARDS_DIR = Path(cards.__file__).parent


def test_all_exports_exist() -> None:
    for name in cards.__all__:
        assert hasattr(cards, name), name
    public = {
        "build_customer_card",
        "build_form_card",
        "task_continue",
        "task_message",
        "build_help_card",
        "build_whoami_card",
        "build_notice_card",
        "build_search_attachment",
        "build_compose_extension_result",
        "pick_locale",
        "translate",
        "ADAPTIVE_CARD_CONTENT_TYPE",
    }
    assert public <= set(cards.__all__)


def test_cards_import_nothing_from_bot_or_http() -> None:
    for path in CARDS_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root not in {"bot", "httpx", "aiohttp", "sqlalchemy"}, (path, name)
