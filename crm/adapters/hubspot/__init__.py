"""The HubSpot adapter.

``adapter``: the ``CrmAdapter``, registered as ``"hubspot"``; ``query``: pure query builders.
"""

from .adapter import (
    HubSpotAdapter,
    HubSpotPaths,
    HubSpotSettings,
    call_properties,
    field_info,
    hubspot_error,
)

__all__ = [
    "HubSpotAdapter",
    "HubSpotSettings",
    "HubSpotPaths",
    "call_properties",
    "hubspot_error",
    "field_info",
]
