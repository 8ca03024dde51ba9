"""The ServiceNow adapter.

``adapter``: the ``CrmAdapter``, registered as ``"servicenow"``; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``metadata``: tables and their fields (the dictionary);
``timeline``: writes of values and of timeline activities; ``wire``: the wire format (pure).
"""

from .adapter import ServiceNowAdapter
from .settings import ServiceNowSettings
from .wire import field_info, servicenow_error

__all__ = ["ServiceNowAdapter", "field_info", "servicenow_error", "ServiceNowSettings"]
