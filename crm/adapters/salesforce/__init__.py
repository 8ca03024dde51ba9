"""The Salesforce adapter.

``adapter``: the ``CrmAdapter``, registered as ``"salesforce"``; ``query``: pure query builders.
"""

from .adapter import SalesforceAdapter, SalesforceSettings, task_payload, translate_error

__all__ = ["SalesforceAdapter", "SalesforceSettings", "task_payload", "translate_error"]
