"""Metrics, structured logs and the outbound Bot Connector policy."""
