"""The Salesforce adapter.

``adapter``: the ``CrmAdapter``, registered as ``"salesforce"``; ``writes``: a job's values and
Task, alone or many jobs in one Composite request; ``query``: pure query builders;
``settings``: the settings model the configuration API validates with; ``connection``:
the API session (auth, transport, errors); ``wire``: the wire format (pure).
"""

from .adapter import SalesforceAdapter
from .settings import SalesforceSettings
from .wire import task_payload, translate_error

__all__ = ["SalesforceAdapter", "task_payload", "translate_error", "SalesforceSettings"]
