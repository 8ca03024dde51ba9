"""The one vendor status -> project error table (crm/http.py) and the vendors' special
cases, which each adapter adds as data."""

from __future__ import annotations

import pytest

from crm.errors import (
    CrmAuthError,
    CrmNotFoundError,
    CrmRateLimitedError,
    CrmRejectedError,
    CrmUnavailableError,
)
from crm.http import StatusTexts, error_for_status

PLAIN = StatusTexts("Acme CRM")


@pytest.mark.parametrize(
    ("status", "kind", "detail"),
    [
        (400, CrmRejectedError, "Acme CRM rejected the request (400)"),
        (401, CrmAuthError, "Acme CRM refused the credentials"),
        (403, CrmRejectedError, "Acme CRM denied this action to the integration user"),
        (404, CrmNotFoundError, "Acme CRM has no such record"),
        (409, CrmRejectedError, "Acme CRM rejected the request (409)"),
        (429, CrmRateLimitedError, "Acme CRM is throttling requests"),
        (500, CrmUnavailableError, "Acme CRM answered 500"),
        (503, CrmUnavailableError, "Acme CRM answered 503"),
    ],
)
def test_each_status_has_its_error(status, kind, detail):
    error = error_for_status(PLAIN, status, message="the words", field="name")
    assert type(error) is kind
    assert (error.detail, error.vendor_status, error.vendor_message) == (
        detail,
        status,
        "the words",
    )
    assert error.field == "name"


def test_success_is_no_error():
    assert error_for_status(PLAIN, 204, message=None) is None
    assert error_for_status(PLAIN, 302, message=None) is None


def test_throttling_keeps_the_wait():
    error = error_for_status(PLAIN, 429, message=None, retry_after=7.5)
    assert isinstance(error, CrmRateLimitedError) and error.retry_after == 7.5
    assert error.retryable


def test_a_vendor_code_can_mean_throttling():
    texts = StatusTexts("Acme", throttle_codes=frozenset({"LIMIT"}))
    assert isinstance(error_for_status(texts, 403, message=None, code="LIMIT"), CrmRateLimitedError)
    assert type(error_for_status(texts, 403, message=None, code="NOPE")) is CrmRejectedError


def test_a_status_with_a_wait_can_mean_throttling():
    texts = StatusTexts("Acme", throttled_when_waiting=frozenset({403, 503}))
    paused = error_for_status(texts, 503, message=None, retry_after=2.0)
    assert isinstance(paused, CrmRateLimitedError) and paused.retry_after == 2.0
    assert type(error_for_status(texts, 503, message=None)) is CrmUnavailableError
    assert type(error_for_status(texts, 403, message=None)) is CrmRejectedError


def test_vendor_wording_fills_the_templates():
    texts = StatusTexts("Acme", rejected="{answered}{message}", auth="{vendor} said ({reason})")
    rejected = error_for_status(texts, 400, message="bad name", code="INVALID")
    assert rejected is not None and rejected.detail == "Acme answered 400 INVALID: bad name"
    auth = error_for_status(texts, 401, message=None)
    assert auth is not None and auth.detail == "Acme said (401)"
