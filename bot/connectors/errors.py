"""The connectors' errors, in the one hierarchy (:class:`crm.errors.AppError`)."""

from __future__ import annotations

from crm.errors import AppError

__all__ = ["PlatformUnavailableError"]


class PlatformUnavailableError(AppError):
    """A platform API the connector needs did not answer (or refused): the platform's own
    delivery is answered 502, so it delivers the event again later."""

    code = "platform_unavailable"
    http_status = 502
    retryable = True
