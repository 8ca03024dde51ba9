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
