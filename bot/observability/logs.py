"""Logging: one JSON object per line in production, readable text in development.

Every line carries the correlation ids of the work in progress (interaction, configuration,
activity), set with ``log_context``. A redaction filter masks anything that looks like a
credential, as a last line of defence: code must not log secrets in the first place.
The JSON lines are written by python-json-logger; the filter runs before it, so it only
ever sees masked text.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

__all__ = [
    "configure_logging",
    "log_context",
    "redact",
    "RedactingFilter",
    "JsonFormatter",
    "set_process_context",
]

# the default dict is never mutated in place: log_context sets a new one
_CONTEXT: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "customer_card_log_context",
    default={},  # noqa: B039
)

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/]+=*"),
    re.compile(
        r"(?i)((?:client_secret|password|api_key|apikey|access_token|refresh_token|"
        r"secret|token|assertion)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
    ),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs
]
_known_secrets: set[str] = set()
_process: dict[str, str] = {}  # on every line of this process, threads included


def set_process_context(**ids: str) -> None:
    """Ids every line of this process carries from now on (a serve worker's number)."""
    _process.update(ids)


def register_secret(value: str) -> None:
    """Mask this exact value wherever it appears in a log line (keys from settings)."""
    if value and len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    # Patterns first: a registered value that is also part of a key name ("secret") must
    # not break the ``name=value`` shape the patterns look for.
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


@contextlib.contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Attach correlation ids (interaction_id=..., configuration_id=..., activity_id=...)."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in ids.items() if v}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class RedactingFilter(logging.Filter):
    """Masks secrets and attaches the correlation ids. The record is rewritten in place, so
    handlers that run after this one see the masked text too (those before it do not)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in vars(record).items():  # ``extra=`` values are written out too
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        context = {**_process, **_CONTEXT.get()}
        for key, value in context.items():
            setattr(record, key, value)
        record.cc_context = context
        return True


_STANDARD_ATTRS = frozenset(RESERVED_ATTRS) | {"taskName", "cc_context"}


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: ``ts``, ``level``, ``logger``, ``message``, the correlation
    ids and any ``extra=`` values (attached and masked by :class:`RedactingFilter`), and
    ``exception`` (its masked text)."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            reserved_attrs=sorted(_STANDARD_ATTRS),
            json_ensure_ascii=False,
            json_default=str,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat()
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "cc_context", {})
        if context:
            line += "  [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return line


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The SDK logs request details at INFO; keep it at WARNING unless asked for DEBUG.
    if level.upper() != "DEBUG":
        logging.getLogger("microsoft_agents").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
