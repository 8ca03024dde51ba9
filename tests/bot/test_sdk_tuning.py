"""The SDK call sites bot.sdk_tuning relies on still exist, and the cached copy answers the
same."""

from __future__ import annotations

import importlib
import importlib.metadata

import pytest

from bot import sdk_tuning


def test_every_caller_uses_one_cached_product_info(monkeypatch):
    from microsoft_agents.hosting.core.connector import get_product_info as original

    expected = original()
    sdk_tuning.apply()
    sdk_tuning.apply()  # twice: still one cache
    cached = {importlib.import_module(name).get_product_info for name in sdk_tuning.CALLERS}
    assert len(cached) == 1 and original not in cached
    (function,) = cached
    assert function() == expected

    def no_disk(_name):  # the metadata is not read again
        raise AssertionError("importlib.metadata.version called per turn")

    monkeypatch.setattr(importlib.metadata, "version", no_disk)
    assert function() == expected


@pytest.mark.parametrize("name", sdk_tuning.CALLERS)
def test_the_sdk_modules_still_call_get_product_info(name):
    source = importlib.import_module(name).__file__
    assert source is not None
    with open(source, encoding="utf-8") as handle:
        assert "get_product_info()" in handle.read()


async def test_anonymous_mode_warns_once_at_start_up_not_per_activity(make_bot, caplog):
    from .activities import ANNA_AGENT, message

    caplog.set_level("WARNING")
    bot = await make_bot()
    await bot.install(ANNA_AGENT)
    for _ in range(3):
        status, _ = await bot.activity(message(bot.service_url, ANNA_AGENT, "help"))
        assert status in (200, 201, 202)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert not [w for w in warnings if w.startswith("App ID is not provided")], warnings
    assert len([w for w in warnings if "No app id configured" in w]) == 1, warnings


def test_the_sdk_still_logs_the_no_app_id_warning_we_drop():
    source = importlib.import_module(sdk_tuning.NO_APP_ID_LOGGER).__file__
    assert source is not None
    with open(source, encoding="utf-8") as handle:
        assert '"App ID is not provided.' in handle.read()
