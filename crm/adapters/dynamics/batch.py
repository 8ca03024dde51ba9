"""Dataverse's ``$batch`` wire format: the multipart body of a batch request and the parts of
its reply (pure functions and data, no I/O; ``connection.py`` sends it)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ...errors import CrmError, CrmUnavailableError
from .wire import VENDOR, _json_bytes, translate_error

__all__ = ["BatchOperation", "BatchReply", "build_batch", "parse_batch"]

# Microsoft Learn, "Execute batch operations using the Web API" (Dataverse) and OData v4.0
# part 1, 11.7 "Batch Requests": a multipart/mixed body, one application/http part per
# request; the reply is multipart/mixed too, one part per request in the same order, each
# an HTTP status line, headers and body. Built by hand: Microsoft's own Python SDK
# (PowerPlatform-Dataverse-Client) has a batch builder, but only inside its own client,
# with its own HTTP session (requests or aiohttp) and azure-identity credentials; it cannot
# ride on this adapter's httpx transport, token manager (MSAL or a token_url), CA bundle and
# quota observation, so the two functions below build and read the body themselves.


@dataclass(frozen=True)
class BatchOperation:
    """One request of a batch: also sent alone as a plain request when it is the only one."""

    method: str
    url: str  # absolute: Dataverse takes absolute or /api/data/... URLs in a part
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchReply:
    """One part of a batch reply: its status, headers (case-insensitive) and JSON body."""

    status: int
    headers: httpx.Headers
    body: Any

    @property
    def error(self) -> CrmError | None:
        """The part's failure through the same table as a plain reply's; ``None`` below 400."""
        return translate_error(self.status, self.body, self.headers) if self.status >= 400 else None


def build_batch(operations: Sequence[BatchOperation], boundary: str) -> tuple[str, bytes]:
    """(Content-Type, body) of a ``$batch`` request sending ``operations`` in order, none in a
    change set. JSON is ASCII-escaped, so the body is plain ASCII with CRLF line ends."""
    lines: list[str] = []
    for op in operations:
        headers = dict(op.headers)
        if op.body is not None:
            headers["Content-Type"] = "application/json; type=entry"
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "",
            f"{op.method} {op.url} HTTP/1.1",
            *(f"{name}: {value}" for name, value in headers.items()),
            "",
            json.dumps(op.body) if op.body is not None else "",
        ]
    lines.append(f"--{boundary}--")
    return f'multipart/mixed; boundary="{boundary}"', ("\r\n".join(lines) + "\r\n").encode("ascii")


def parse_batch(content_type: str, content: bytes) -> list[BatchReply]:
    """The parts of a ``$batch`` reply in order (a change set's parts in its place). The
    stdlib ``email`` parser splits the MIME parts; each part's HTTP message is read here."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + content
    )
    if not message.is_multipart():
        raise _unreadable("is not multipart")
    replies: list[BatchReply] = []
    for part in message.walk():
        if part.is_multipart():
            continue  # the batch itself, or a change set: its parts follow in the walk
        if part.get_content_type() != "application/http":
            raise _unreadable(f"has a {part.get_content_type()} part")
        payload = part.get_payload(decode=True)
        replies.append(_http_reply(payload if isinstance(payload, bytes) else b""))
    return replies


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _http_reply(raw: bytes) -> BatchReply:
    blank = _BLANK_LINE.search(raw)
    head, body = (raw[: blank.start()], raw[blank.end() :]) if blank else (raw, b"")
    status_line, *header_lines = head.decode("latin-1").splitlines() or [""]
    words = status_line.split(" ", 2)
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
        raise _unreadable("has a part without a status line")
    pairs = (line.partition(":") for line in header_lines if ":" in line)
    headers = httpx.Headers([(name.strip(), value.strip()) for name, _, value in pairs])
    return BatchReply(int(words[1]), headers, _json_bytes(body))


def _unreadable(what: str) -> CrmUnavailableError:
    return CrmUnavailableError(f"{VENDOR} answered a batch with a reply that {what}")
