"""The HubSpot adapter.

``adapter``: the ``CrmAdapter``, registered as ``"hubspot"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``wire``: the wire format (pure).
"""

from .adapter import HubSpotAdapter
from .settings import HubSpotSettings
from .wire import HubSpotPaths, call_properties, field_info, hubspot_error

__all__ = [
    "HubSpotAdapter",
    "HubSpotPaths",
    "call_properties",
    "field_info",
    "hubspot_error",
    "HubSpotSettings",
]
