"""Each vendor's rate-limit headers read into one ``Quota`` (``crm.http.parse_quota``), with
the header names and shapes crm-apis.md documents per vendor ("Rate-limit signalling")."""

from __future__ import annotations

import httpx
import pytest

from crm.adapters.dynamics.wire import QUOTA_HEADERS as DYNAMICS
from crm.adapters.hubspot.wire import QUOTA_HEADERS as HUBSPOT
from crm.adapters.kustomer.wire import QUOTA_HEADERS as KUSTOMER
from crm.adapters.oracle.wire import QUOTA_HEADERS as ORACLE
from crm.adapters.salesforce.wire import QUOTA_HEADERS as SALESFORCE
from crm.adapters.servicenow.wire import QUOTA_HEADERS as SERVICENOW
from crm.adapters.zendesk.wire import QUOTA_HEADERS as ZENDESK
from crm.http import Quota, parse_quota

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("spec", "headers", "expected"),
    [
        (
            SALESFORCE,
            {"Sforce-Limit-Info": "api-usage=18/15000"},
            Quota(remaining=14982, limit=15000, window=86400, paces=False),
        ),
        (
            SALESFORCE,
            {"Sforce-Limit-Info": "api-bursts=3/100, api-usage=15000/15000"},
            Quota(remaining=0, limit=15000, window=86400, paces=False),
        ),
        (
            HUBSPOT,
            {
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Remaining": "187",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            },
            Quota(remaining=187, limit=190, window=10.0),
        ),
        (
            HUBSPOT,
            {"X-HubSpot-RateLimit-Remaining": "0", "Retry-After": "2"},
            Quota(remaining=0, retry_after=2.0),
        ),
        (
            DYNAMICS,
            {"x-ms-ratelimit-burst-remaining-xrm-requests": "5990", "Retry-After": "7"},
            Quota(remaining=5990, window=300, retry_after=7.0, paces=False),
        ),
        (
            ZENDESK,
            {"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "12", "ratelimit-reset": "31"},
            Quota(remaining=12, limit=700, window=60, reset_in=31.0),
        ),
        (
            KUSTOMER,  # reset as Unix time in milliseconds
            {
                "x-ratelimit-limit": "1000",
                "x-ratelimit-remaining": "40",
                "x-ratelimit-reset": f"{(NOW + 20) * 1000:.0f}",
            },
            Quota(remaining=40, limit=1000, window=60, reset_in=20.0),
        ),
        (SERVICENOW, {"Retry-After": "30"}, Quota(window=3600, retry_after=30.0)),
        (ORACLE, {"osvc-crest-next-request-after": "1500"}, Quota(retry_after=1.5)),
    ],
)
def test_each_vendor_quota_is_read_from_its_documented_headers(spec, headers, expected):
    assert parse_quota(spec, httpx.Headers(headers), now=NOW) == expected


@pytest.mark.parametrize(
    ("spec", "headers"),
    [
        (SERVICENOW, {"X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "1750003600"}),
        (HUBSPOT, {"X-HubSpot-RateLimit-Remaining": "many"}),
        (SALESFORCE, {"Sforce-Limit-Info": "api-usage=garbled"}),
        (ORACLE, {"osvc-crest-next-request-after": "0"}),
        (ZENDESK, {}),
    ],
)
def test_headers_that_report_nothing_to_pace_by_give_no_quota(spec, headers):
    # ServiceNow sends no remaining count: only its Retry-After paces
    assert parse_quota(spec, httpx.Headers(headers), now=NOW) is None
