"""The Zendesk adapter.

``adapter``: the ``CrmAdapter``, registered as ``"zendesk"``; ``query``: pure query builders.
"""

from .adapter import ZendeskAdapter, create_zendesk_adapter, error_for_response

__all__ = ["ZendeskAdapter", "create_zendesk_adapter", "error_for_response"]
