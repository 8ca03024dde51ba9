"""The Kustomer adapter.

``adapter``: the ``CrmAdapter``, registered as ``"kustomer"``; ``query``: pure query builders.
"""

from .adapter import KustomerAdapter, create_kustomer_adapter, error_for_response

__all__ = ["KustomerAdapter", "create_kustomer_adapter", "error_for_response"]
