"""A bounded smoke run of the property-based fuzzing (tests/bot/api_fuzz.py): every
operation of the OpenAPI document, a few valid and invalid cases each, on SQLite and
PostgreSQL; no answer >= 500. The full run is bench/fuzz_api.py."""

from __future__ import annotations

from typing import Any

import pytest

from .api_fuzz import fuzz, serving
from .conftest import ADMIN_KEY, make_settings


@pytest.mark.slow
async def test_no_operation_answers_a_server_error(tmp_path: Any, database_url: str) -> None:
    with serving(make_settings(tmp_path, database_url)) as base_url:
        report = fuzz(base_url, ADMIN_KEY, max_examples=3)
    assert report.operations >= 40, report.summary()
    assert report.cases >= 4 * report.operations, report.summary()
    assert not report.failures, "\n".join(f.curl for f in report.failures[:5])
