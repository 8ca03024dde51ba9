"""The Oracle B2C Service adapter.

``adapter``: the ``CrmAdapter``, registered as ``"oracle"``; ``query``: pure query builders.
"""

from .adapter import OracleAdapter, create_oracle_adapter, error_for_response, throttle_wait

__all__ = ["OracleAdapter", "create_oracle_adapter", "error_for_response", "throttle_wait"]
