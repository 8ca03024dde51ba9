"""The ServiceNow adapter.

``adapter``: the ``CrmAdapter``, registered as ``"servicenow"``; ``query``: pure query builders.
"""

from .adapter import ServiceNowAdapter, ServiceNowSettings, field_info, servicenow_error

__all__ = ["ServiceNowAdapter", "ServiceNowSettings", "servicenow_error", "field_info"]
