"""A local Salesforce simulator: an aiohttp app speaking the REST API's wire format.

It keeps records in dicts, mints OAuth tokens (client credentials and JWT bearer), and
*evaluates* the SOQL and SOSL strings the adapter sends with a small parser for the subset
the adapter generates, so escaping mistakes show up as wrong matches or MALFORMED_QUERY.
Controls for tests: ``expire_tokens()``, ``expire_after_calls``, ``throttle_next``,
``fail_next``, ``delay``, ``batch_size`` (paging), ``requests`` (what was sent) and
``subrequests`` (what Composite requests carried).

Simplification (documented in docs/crm-salesforce.md): ``IN PHONE FIELDS`` matches a term
when its digits equal the digits of a stored phone value.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from aiohttp import web

from tests.crm.dataset import PEOPLE

API_VERSIONS = [f"{n}.0" for n in range(55, 66)]
COMPOSITE_LIMIT = 25  # subrequests in one Composite request (REST API Developer Guide, "Composite")


# --- schema -----------------------------------------------------------------------------


def _f(name: str, type_: str, length: int = 0, **extra: Any) -> dict[str, Any]:
    meta = {
        "name": name,
        "label": extra.pop("label", name),
        "type": type_,
        "length": length,
        "nillable": True,
        "createable": True,
        "updateable": True,
        "custom": name.endswith("__c"),
        "defaultedOnCreate": False,
        "nameField": False,
        "referenceTo": [],
        "picklistValues": [],
    }
    meta.update(extra)
    return meta


_RO = {"createable": False, "updateable": False}
_SYSTEM = [
    _f("Id", "id", 18, nillable=False, **_RO),
    _f("OwnerId", "reference", 18, referenceTo=["User"], defaultedOnCreate=True),
    _f("CreatedDate", "datetime", **_RO),
    _f("LastModifiedDate", "datetime", **_RO),
]


def _picklist(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": v, "active": True} for v in values]


SCHEMA: dict[str, dict[str, Any]] = {
    "Account": {
        "prefix": "001",
        "label": "Account",
        "fields": _SYSTEM
        + [
            _f("Name", "string", 255, nillable=False, nameField=True, label="Account Name"),
            _f("Phone", "phone", 40),
            _f("Website", "url", 255),
            _f("Industry", "picklist", 255, picklistValues=_picklist("Logistics", "Consulting")),
            _f("Description", "textarea", 32000),
        ],
    },
    "Contact": {
        "prefix": "003",
        "label": "Contact",
        "fields": _SYSTEM
        + [
            _f("FirstName", "string", 40),
            _f("LastName", "string", 80, nillable=False),
            _f("Name", "string", 121, nameField=True, label="Full Name", **_RO),
            _f("Email", "email", 80),
            _f("Phone", "phone", 40),
            _f("MobilePhone", "phone", 40),
            _f("HomePhone", "phone", 40),
            _f("Title", "string", 128),
            _f("AccountId", "reference", 18, referenceTo=["Account"]),
            _f("MailingAddress", "address", **_RO),
            _f("Description", "textarea", 32000),
            _f("Customer_Tier__c", "picklist", 255, picklistValues=_picklist("Gold", "Silver")),
            _f("Call_Notes__c", "textarea", 131072),
        ],
    },
    "Lead": {
        "prefix": "00Q",
        "label": "Lead",
        "fields": _SYSTEM
        + [
            _f("FirstName", "string", 40),
            _f("LastName", "string", 80, nillable=False),
            _f("Name", "string", 121, nameField=True, **_RO),
            _f("Company", "string", 255, nillable=False),
            _f("Email", "email", 80),
            _f("Phone", "phone", 40),
            _f("MobilePhone", "phone", 40),
            _f(
                "Status",
                "picklist",
                255,
                defaultedOnCreate=True,
                nillable=False,
                picklistValues=_picklist("Open", "Qualified"),
            ),
        ],
    },
    "Case": {
        "prefix": "500",
        "label": "Case",
        "fields": _SYSTEM
        + [
            _f("CaseNumber", "string", 30, nameField=True, **_RO),
            _f("Subject", "string", 255),
            _f("Description", "textarea", 32000),
            _f(
                "Status",
                "picklist",
                255,
                defaultedOnCreate=True,
                nillable=False,
                picklistValues=_picklist("New", "Working", "Closed"),
            ),
            _f("Origin", "picklist", 255, picklistValues=_picklist("Phone", "Email", "Web")),
            _f("ContactId", "reference", 18, referenceTo=["Contact"]),
            _f("AccountId", "reference", 18, referenceTo=["Account"]),
            _f("IsClosed", "boolean", **_RO),
        ],
    },
    "Task": {
        "prefix": "00T",
        "label": "Task",
        "fields": _SYSTEM
        + [
            _f("Subject", "combobox", 255),
            _f("Description", "textarea", 32000),
            _f(
                "Status",
                "picklist",
                255,
                nillable=False,
                defaultedOnCreate=True,
                picklistValues=_picklist("Not Started", "Completed"),
            ),
            _f("Priority", "picklist", 255, picklistValues=_picklist("Normal", "High")),
            _f("ActivityDate", "date"),
            _f("WhoId", "reference", 18, referenceTo=["Contact", "Lead"]),
            _f("WhatId", "reference", 18, referenceTo=["Account", "Case"]),
            _f("TaskSubtype", "picklist", 255, picklistValues=_picklist("Task", "Call")),
            _f("CallType", "picklist", 255, picklistValues=_picklist("Inbound", "Outbound")),
            _f("CallDurationInSeconds", "int"),
            _f("CallObject", "string", 255),
            _f("CallDisposition", "string", 255),
        ],
    },
    "Project__c": {
        "prefix": "a01",
        "label": "Project",
        "custom": True,
        "fields": _SYSTEM
        + [_f("Name", "string", 80, nameField=True, nillable=False), _f("Status__c", "string", 40)],
    },
}
# In describe global but not something a user opens: the adapter must leave it out.
HIDDEN_OBJECTS = [
    {
        "name": "ContactHistory",
        "label": "Contact History",
        "custom": False,
        "createable": False,
        "queryable": True,
        "searchable": False,
        "layoutable": False,
    }
]


def _fields(sobject: str) -> dict[str, dict[str, Any]]:
    return {f["name"].lower(): f for f in SCHEMA[sobject]["fields"]}


class SfError(Exception):
    """An error reply in Salesforce's array shape."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []

    def body(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status)


def _malformed(message: str) -> SfError:
    return SfError(400, "MALFORMED_QUERY", message)


@dataclass
class Call:
    """One REST call as the handlers see it: a plain request or a Composite subrequest."""

    method: str
    version: str  # "v62.0"
    rest: str  # the path after /services/data/{version}/
    query: dict[str, str]
    body: Any = None


async def _json_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    try:
        return await request.json()
    except ValueError as exc:
        raise SfError(400, "JSON_PARSER_ERROR", "Cannot parse the request body") from exc


# --- SOQL subset --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)|
    (?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,))""",
    re.X | re.S,
)
_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    "%": "%",
    "_": "_",
}


@dataclass
class Tok:
    kind: str
    text: str


def tokenize(text: str) -> list[Tok]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _malformed(f"unexpected token at {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append(Tok(kind, match.group(kind)))
        pos = match.end()
    return tokens


def decode_literal(raw: str) -> list[tuple[str, bool]]:
    """A string literal's characters, each flagged True when it was escaped."""
    out, i, body = [], 0, raw[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in _ESCAPES:
                raise _malformed(f"Invalid string literal: illegal escape '\\{nxt}'")
            out.append((_ESCAPES[nxt], True))
            i += 2
        else:
            out.append((ch, False))
            i += 1
    return out


def like_regex(chars: list[tuple[str, bool]]) -> re.Pattern[str]:
    parts = []
    for ch, escaped in chars:
        if not escaped and ch == "%":
            parts.append(".*")
        elif not escaped and ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("^" + "".join(parts) + "$", re.I | re.S)


class Parser:
    """Recursive descent over SOQL tokens; produces predicates over record dicts."""

    def __init__(self, tokens: list[Tok], sobject: str | None = None) -> None:
        self.tokens, self.pos, self.sobject = tokens, 0, sobject

    def peek(self, offset: int = 0) -> Tok | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def kw(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok.kind == "name" and tok.text.upper() == word:
            self.pos += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            tok = self.peek()
            raise _malformed(f"expecting {word}, unexpected token: {tok.text if tok else 'EOF'}")

    def expect_op(self, op: str) -> None:
        tok = self.peek()
        if not tok or tok.text != op:
            raise _malformed(f"expecting '{op}', unexpected token: {tok.text if tok else 'EOF'}")
        self.pos += 1

    def name(self) -> str:
        tok = self.peek()
        if not tok or tok.kind != "name":
            raise _malformed(f"unexpected token: {tok.text if tok else 'EOF'}")
        self.pos += 1
        return tok.text

    def field(self) -> str:
        name = self.name()
        assert self.sobject is not None
        meta = _fields(self.sobject).get(name.lower())
        if meta is None:
            raise SfError(
                400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.sobject}'."
            )
        return str(meta["name"])

    def field_list(self) -> list[str]:
        names = [self.field()]
        while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
            self.pos += 1
            names.append(self.field())
        return names

    def condition(self):  # type: ignore[no-untyped-def]
        first = self.atom()
        parts, joiner = [first], None
        while True:
            tok = self.peek()
            word = tok.text.upper() if tok and tok.kind == "name" else ""
            if word not in ("AND", "OR"):
                break
            if joiner and word != joiner:  # SOQL wants parentheses when mixing
                raise _malformed(f"unexpected token: '{tok.text}'")  # type: ignore[union-attr]
            joiner = word
            self.pos += 1
            parts.append(self.atom())
        if joiner == "OR":
            return lambda r: any(p(r) for p in parts)
        return lambda r: all(p(r) for p in parts)

    def atom(self):  # type: ignore[no-untyped-def]
        if self.kw("NOT"):
            inner = self.atom()
            return lambda r: not inner(r)
        tok = self.peek()
        if tok and tok.text == "(":
            self.pos += 1
            inner = self.condition()
            self.expect_op(")")
            return inner
        name = self.field()
        if self.kw("LIKE"):
            pattern = like_regex(self.literal_chars())
            return lambda r: r.get(name) is not None and bool(pattern.match(str(r[name])))
        negate = self.kw("NOT")
        if self.kw("IN"):
            self.expect_op("(")
            values = [self.value()]
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.pos += 1
                values.append(self.value())
            self.expect_op(")")
            return lambda r: any(_equal(r.get(name), v) for v in values) != negate
        if negate:
            raise _malformed("expecting IN after NOT")
        op_tok = self.peek()
        if not op_tok or op_tok.kind != "op" or op_tok.text not in ("=", "!=", "<>"):
            raise _malformed(f"unexpected token: {op_tok.text if op_tok else 'EOF'}")
        self.pos += 1
        value = self.value()
        if op_tok.text == "=":
            return lambda r: _equal(r.get(name), value)
        return lambda r: not _equal(r.get(name), value)

    def literal_chars(self) -> list[tuple[str, bool]]:
        tok = self.peek()
        if not tok or tok.kind != "str":
            raise _malformed(f"unexpected token: {tok.text if tok else 'EOF'}")
        self.pos += 1
        return decode_literal(tok.text)

    def value(self) -> Any:
        tok = self.peek()
        if tok and tok.kind == "str":
            return "".join(ch for ch, _ in self.literal_chars())
        if tok and tok.kind == "num":
            self.pos += 1
            return float(tok.text)
        if tok and tok.kind == "name" and tok.text.lower() in ("null", "true", "false"):
            self.pos += 1
            return {"null": None, "true": True, "false": False}[tok.text.lower()]
        raise _malformed(f"unexpected token: {tok.text if tok else 'EOF'}")

    def limit(self) -> int | None:
        if not self.kw("LIMIT"):
            return None
        tok = self.peek()
        if not tok or tok.kind != "num":
            raise _malformed("LIMIT needs a number")
        self.pos += 1
        return int(tok.text)


def _equal(stored: Any, value: Any) -> bool:
    if value is None or stored is None:
        return stored is value
    if isinstance(value, str):
        return str(stored).lower() == value.lower()  # SOQL = is case-insensitive on text
    if isinstance(value, bool):
        return stored is value
    try:
        return float(stored) == value
    except (TypeError, ValueError):
        return False


@dataclass
class Select:
    sobject: str
    fields: list[str]
    where: Any = None
    order_by: tuple[str, bool] | None = None
    limit: int | None = None


def parse_soql(text: str) -> Select:
    p = Parser(tokenize(text))
    p.expect_kw("SELECT")
    # the field list comes before FROM: read names, resolve them once the object is known
    raw_fields = [p.name()]
    while p.peek() and p.peek().text == ",":  # type: ignore[union-attr]
        p.pos += 1
        raw_fields.append(p.name())
    p.expect_kw("FROM")
    sobject = p.name()
    if sobject not in SCHEMA:
        raise SfError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
    p.sobject = sobject
    select = Select(sobject, [_resolve(sobject, f) for f in raw_fields])
    if p.kw("WHERE"):
        select.where = p.condition()
    if p.kw("ORDER"):
        p.expect_kw("BY")
        name = p.field()
        desc = p.kw("DESC")
        if not desc:
            p.kw("ASC")
        select.order_by = (name, desc)
    select.limit = p.limit()
    if p.peek() is not None:
        raise _malformed(f"unexpected token: '{p.peek().text}'")  # type: ignore[union-attr]
    return select


def _resolve(sobject: str, name: str) -> str:
    meta = _fields(sobject).get(name.lower())
    if meta is None:
        raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'.")
    return str(meta["name"])


# --- SOSL subset ---------------------------------------------------------------------------

_SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


def parse_find(text: str) -> tuple[list[str], str]:
    """The phrases inside ``FIND {...}`` (OR-joined) and the rest of the statement."""
    if not text.upper().startswith("FIND {"):
        raise SfError(
            400,
            "MALFORMED_SEARCH",
            "No search term found. The search term must be enclosed in braces.",
        )
    i, phrases, word, quoted = 6, [], "", False

    def flush() -> None:
        nonlocal word
        if word and word.upper() not in ("OR", "AND"):
            phrases.append(word)
        word = ""

    while True:
        if i >= len(text):
            raise SfError(400, "MALFORMED_SEARCH", "missing closing brace")
        ch = text[i]
        if ch == "\\":
            word += text[i + 1] if i + 1 < len(text) else ""
            i += 2
            continue
        if quoted:
            if ch == '"':
                quoted = False
                phrases.append(word)
                word = ""
            else:
                word += ch
        elif ch == '"':
            flush()
            quoted = True
        elif ch == "}":
            break
        elif ch.isspace():
            flush()
        elif ch in _SOSL_RESERVED:
            raise SfError(400, "MALFORMED_SEARCH", f"unexpected reserved character '{ch}'")
        else:
            word += ch
        i += 1
    flush()
    if not phrases:
        raise SfError(400, "MALFORMED_SEARCH", "No search term found.")
    for phrase in phrases:
        if len(phrase.strip()) < 2:
            raise SfError(400, "MALFORMED_SEARCH", "search term must be longer than one character")
    return phrases, text[i + 1 :]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


# --- the simulator ---------------------------------------------------------------------------


@dataclass
class SalesforceSim:
    """State and controls; ``app`` is the aiohttp application."""

    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret"
    username: str = "integration@example.com"
    public_key: str = ""  # PEM; enables the JWT bearer grant
    instance_url: str = ""  # what the token answer claims; default: the simulator itself
    batch_size: int = 2000
    expire_after_calls: int | None = None
    throttle_next: int = 0
    fail_next: list[int] = field(default_factory=list)
    delay: float = 0.0
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tokens_issued: int = 0
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    subrequests: list[tuple[str, str, str]] = field(default_factory=list)  # of composites
    composite_sizes: list[int] = field(default_factory=list)  # subrequests per composite
    _tokens: dict[str, int] = field(default_factory=dict)  # token -> calls left (-1: forever)
    _cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    api_calls: int = 0
    unfiltered: set[str] = field(
        default_factory=set
    )  # tables whose look-ups ignore the filter: a wrong reply

    def __post_init__(self) -> None:
        for sobject in SCHEMA:
            self.records.setdefault(sobject, {})
        if not any(self.records.values()):
            self.seed()

    # controls
    def expire_tokens(self) -> None:
        """Every issued token now gets ``401 INVALID_SESSION_ID``."""
        self._tokens.clear()

    def seed(self) -> None:
        accounts: dict[str, str] = {}
        for person in PEOPLE:
            if person.company and person.company not in accounts:
                accounts[person.company] = self.insert("Account", {"Name": person.company})
            contact = self.insert(
                "Contact",
                {
                    "FirstName": person.first_name,
                    "LastName": person.last_name,
                    "Email": person.email,
                    "Phone": person.phone,
                    "MobilePhone": person.mobile or None,
                    "AccountId": accounts.get(person.company),
                },
            )
            if person.first_name == "Anna":
                self.insert(
                    "Case",
                    {
                        "Subject": "Delivery delayed",
                        "Status": "New",
                        "ContactId": contact,
                        "AccountId": accounts.get(person.company),
                    },
                )

    def insert(self, sobject: str, values: dict[str, Any]) -> str:
        prefix = SCHEMA[sobject]["prefix"]
        record_id = f"{prefix}{next(self._ids):012d}AAA"
        now = _now()
        record = {f["name"]: None for f in SCHEMA[sobject]["fields"]}
        record.update({"Id": record_id, "CreatedDate": now, "OwnerId": "005000000000001AAA"})
        record.update(values)
        if sobject == "Case":
            record["CaseNumber"] = f"{1000 + len(self.records['Case']) + 1:08d}"
            record["Status"] = record.get("Status") or "New"
        if sobject == "Task":
            record["Status"] = record.get("Status") or "Not Started"
        if sobject == "Lead":
            record["Status"] = record.get("Status") or "Open"
        self.records[sobject][record_id] = record
        self._computed(sobject, record)
        return record_id

    def _computed(self, sobject: str, record: dict[str, Any]) -> None:
        record["LastModifiedDate"] = _now()
        if sobject in ("Contact", "Lead"):
            record["Name"] = " ".join(
                p for p in (record.get("FirstName"), record.get("LastName")) if p
            )
        if sobject == "Case":
            record["IsClosed"] = record.get("Status") == "Closed"

    def find(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        for sobject, rows in self.records.items():
            if record_id in rows:
                return sobject, rows[record_id]
        return None

    # app
    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/services/oauth2/token", self._token)
        app.router.add_route("*", "/services/data/{version}/{rest:.*}", self._api)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if (
                form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret
            ):
                return web.json_response(
                    {"error": "invalid_client", "error_description": "invalid client credentials"},
                    status=400,
                )
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                claims = jwt.decode(
                    str(form.get("assertion")),
                    self.public_key,
                    algorithms=["RS256"],
                    audience="https://login.salesforce.com",
                    options={"require": ["exp", "iss", "sub", "aud"]},
                )
            except (jwt.PyJWTError, ValueError):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "invalid assertion"}, status=400
                )
            if claims["iss"] != self.client_id or claims["sub"] != self.username:
                return web.json_response(
                    {
                        "error": "invalid_grant",
                        "error_description": "user hasn't approved this consumer",
                    },
                    status=400,
                )
        else:
            return web.json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                status=400,
            )
        token = "00DSIM000000001!" + secrets.token_urlsafe(24)
        self._tokens[token] = -1 if self.expire_after_calls is None else self.expire_after_calls
        self.tokens_issued += 1
        base = self.instance_url or f"{request.scheme}://{request.host}"
        return web.json_response(
            {
                "access_token": token,
                "instance_url": base,
                "token_type": "Bearer",
                "id": f"{base}/id/00DSIM000000001AAA/005000000000001AAA",
                "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
                "signature": "c2lt",
                "token_format": "opaque",
            }
        )

    async def _api(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, request.query_string))
        if self.delay:
            await asyncio.sleep(self.delay)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        left = self._tokens.get(token)
        if left is None or left == 0:
            return SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").response()
        if left > 0:
            self._tokens[token] = left - 1
        self.api_calls += 1
        headers = {"Sforce-Limit-Info": f"api-usage={self.api_calls}/15000"}
        if self.throttle_next:
            self.throttle_next -= 1
            return SfError(
                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
            ).response()
        if self.fail_next:
            status = self.fail_next.pop(0)
            return SfError(
                status,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please "
                "include this ErrorId if you contact support: 1234-5678 (-1)",
            ).response()
        version = request.match_info["version"]
        try:
            if version.removeprefix("v") not in API_VERSIONS:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            body = await _json_body(request)
            rest = request.match_info["rest"].strip("/")
            if rest == "composite" and request.method == "POST":
                response = await self._composite(version, body)
            else:
                call = Call(request.method, version, rest, dict(request.query), body)
                response = await self._route(call)
        except SfError as exc:
            response = exc.response()
        response.headers.update(headers)
        return response

    async def _route(self, call: Call) -> web.Response:
        parts = call.rest.split("/") if call.rest else []
        method = call.method
        if not parts:
            return web.json_response(
                {
                    "sobjects": "/sobjects",
                    "query": "/query",
                    "search": "/search",
                    "composite": "/composite",
                    "limits": "/limits",
                }
            )
        if parts[0] == "query":
            if len(parts) == 2:
                return self._next_batch(call.version, parts[1])
            return self._query(call.version, call.query.get("q", ""))
        if parts[0] == "search":
            return self._search(call.query.get("q", ""))
        if parts[0] == "sobjects":
            if len(parts) == 1:
                return self._describe_global()
            sobject = parts[1]
            if sobject not in SCHEMA:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            if len(parts) == 3 and parts[2] == "describe":
                return self._describe(sobject)
            if len(parts) == 2 and method == "POST":
                return self._create(call.version, sobject, call.body)
            if len(parts) == 3 and method == "GET":
                return web.json_response(self._row(sobject, self._get(sobject, parts[2])))
            if len(parts) == 3 and method == "PATCH":
                self._update(sobject, parts[2], call.body)
                return web.Response(status=204)
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")

    async def _composite(self, version: str, body: Any) -> web.Response:
        """``POST /composite`` (REST API Developer Guide, "Send Multiple Requests Using
        Composite"): each subrequest goes to the handlers a plain request reaches, in order,
        and its status, body and headers come back under its ``referenceId`` in
        ``compositeResponse``; the reply itself is ``200``. With ``allOrNone`` true a failed
        subrequest rolls every change back and the others answer ``400 PROCESSING_HALTED``;
        with false each subrequest stands alone. The whole is one API call (counted by
        ``_api``). More than 25 subrequests ("up to 25 subrequests in a single call") are
        refused whole, nothing run: the guide names the cap but not the reply, so the reply is
        the one Salesforce was seen to send (guardian/support-service-lambdas PR #766:
        ``LIMIT_EXCEEDED`` in a ``compositeResponse`` entry without ``referenceId``), with
        status 400. Not simulated: ``@{reference.field}`` references."""
        subrequests = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            raise SfError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        self.composite_sizes.append(len(subrequests))
        if len(subrequests) > COMPOSITE_LIMIT:
            error = SfError(
                400, "LIMIT_EXCEEDED", "The request can't contain more than 25 operations."
            )
            entry = {
                "body": error.body(),
                "httpHeaders": {},
                "httpStatusCode": 400,
                "referenceId": None,
            }
            return web.json_response({"compositeResponse": [entry]}, status=400)
        all_or_none = body.get("allOrNone") is True
        saved = copy.deepcopy(self.records) if all_or_none else None
        results = [await self._subrequest(version, sub) for sub in subrequests]
        if saved is not None and any(r["httpStatusCode"] >= 400 for r in results):
            self.records = saved
            first = next(r for r in results if r["httpStatusCode"] >= 400)
            halted = SfError(
                400,
                "PROCESSING_HALTED",
                "The transaction was rolled back since another operation in the same "
                "transaction failed.",
            )
            results = [
                r
                if r is first
                else {**r, "httpStatusCode": 400, "body": halted.body(), "httpHeaders": {}}
                for r in results
            ]
        return web.json_response({"compositeResponse": results})

    async def _subrequest(self, version: str, sub: Any) -> dict[str, Any]:
        if not isinstance(sub, dict) or not {"method", "url", "referenceId"} <= set(sub):
            raise SfError(400, "JSON_PARSER_ERROR", "method, url and referenceId are required")
        url = urlsplit(str(sub["url"]))
        prefix = f"/services/data/{version}/"
        self.subrequests.append((str(sub["method"]), url.path, url.query))
        try:
            if not url.path.startswith(prefix):
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            rest = url.path.removeprefix(prefix).strip("/")
            if not rest.startswith(("sobjects", "query")):  # what Composite runs
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            call = Call(
                str(sub["method"]), version, rest, dict(parse_qsl(url.query)), sub.get("body")
            )
            response = await self._route(call)
        except SfError as exc:
            response = exc.response()
        payload = response.body if isinstance(response.body, bytes) else b""
        return {
            "body": json.loads(payload) if payload else None,
            "httpHeaders": {k: v for k, v in response.headers.items() if k == "Location"},
            "httpStatusCode": response.status,
            "referenceId": sub["referenceId"],
        }

    # handlers
    def _describe_global(self) -> web.Response:
        objects = [
            {
                "name": name,
                "label": spec["label"],
                "custom": bool(spec.get("custom")),
                "createable": True,
                "queryable": True,
                "searchable": True,
                "layoutable": True,
                "deprecatedAndHidden": False,
                "keyPrefix": spec["prefix"],
            }
            for name, spec in SCHEMA.items()
        ]
        return web.json_response(
            {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects + HIDDEN_OBJECTS}
        )

    def _describe(self, sobject: str) -> web.Response:
        spec = SCHEMA[sobject]
        return web.json_response(
            {
                "name": sobject,
                "label": spec["label"],
                "custom": bool(spec.get("custom")),
                "keyPrefix": spec["prefix"],
                "fields": spec["fields"],
                "recordTypeInfos": [],
                "childRelationships": [],
            }
        )

    def _get(self, sobject: str, record_id: str) -> dict[str, Any]:
        record = self.records[sobject].get(record_id)
        if record is None:
            raise SfError(
                404,
                "NOT_FOUND",
                "Provided external ID field does not exist or is not accessible: " + record_id[:20],
            )
        return record

    def _row(
        self, sobject: str, record: dict[str, Any], fields: list[str] | None = None
    ) -> dict[str, Any]:
        row = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v62.0/sobjects/{sobject}/{record['Id']}",
            }
        }
        for name in fields or [f["name"] for f in SCHEMA[sobject]["fields"]]:
            row[name] = record.get(name)
        return row

    def _check_write(self, sobject: str, values: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(values, dict):
            raise SfError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of object")
        meta = _fields(sobject)
        clean: dict[str, Any] = {}
        for name, value in values.items():
            f = meta.get(name.lower())
            if f is None:
                raise SfError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {sobject}",
                    [name],
                )
            if not f["createable" if creating else "updateable"]:
                raise SfError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {f['name']}. Please check the "
                    "security settings of this field.",
                    [f["name"]],
                )
            if isinstance(value, str) and f["length"] and len(value) > f["length"]:
                raise SfError(
                    400,
                    "STRING_TOO_LONG",
                    f"{f['label']}: data value too large: "
                    f"{value[:20]}... (max length={f['length']})",
                    [f["name"]],
                )
            if f["type"] == "reference" and value and f["name"] != "OwnerId":
                target = self.find(str(value))
                if target is None or target[0] not in f["referenceTo"]:
                    raise SfError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        [f["name"]],
                    )
            clean[f["name"]] = value
        if creating:
            missing = [
                f["name"]
                for f in SCHEMA[sobject]["fields"]
                if not f["nillable"]
                and f["createable"]
                and not f["defaultedOnCreate"]
                and clean.get(f["name"]) in (None, "")
            ]
            if missing:
                raise SfError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
        return clean

    def _create(self, version: str, sobject: str, values: Any) -> web.Response:
        record_id = self.insert(sobject, self._check_write(sobject, values, True))
        return web.json_response(
            {"id": record_id, "success": True, "errors": []},
            status=201,
            headers={"Location": f"/services/data/{version}/sobjects/{sobject}/{record_id}"},
        )

    def _update(self, sobject: str, record_id: str, values: Any) -> None:
        record = self._get(sobject, record_id)
        record.update(self._check_write(sobject, values, False))
        self._computed(sobject, record)

    def _select(self, select: Select) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.records[select.sobject].values()
            if select.where is None or select.sobject in self.unfiltered or select.where(r)
        ]
        if select.order_by:
            name, desc = select.order_by
            rows.sort(key=lambda r: (r.get(name) is None, str(r.get(name) or "")), reverse=desc)
        if select.limit is not None:
            rows = rows[: select.limit]
        return [self._row(select.sobject, r, select.fields) for r in rows]

    def _query(self, version: str, soql: str) -> web.Response:
        rows = self._select(parse_soql(soql))
        return self._batch(version, rows, len(rows))

    def _batch(self, version: str, rows: list[dict[str, Any]], total: int) -> web.Response:
        body: dict[str, Any] = {
            "totalSize": total,
            "done": True,
            "records": rows[: self.batch_size],
        }
        if len(rows) > self.batch_size:
            cursor = f"01gSIM{secrets.token_hex(4)}"
            self._cursors[cursor] = rows[self.batch_size :]
            body["done"] = False
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{cursor}-{self.batch_size}"
        return web.json_response(body)

    def _next_batch(self, version: str, locator: str) -> web.Response:
        cursor = locator.rsplit("-", 1)[0]
        rows = self._cursors.pop(cursor, None)
        if rows is None:
            raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._batch(version, rows, len(rows))

    def _search(self, sosl: str) -> web.Response:
        phrases, rest = parse_find(sosl.strip())
        p = Parser(tokenize(rest))
        p.expect_kw("IN")
        scope = p.name().upper()
        p.expect_kw("FIELDS")
        p.expect_kw("RETURNING")
        found: list[dict[str, Any]] = []
        while True:
            sobject = p.name()
            if sobject not in SCHEMA:
                raise SfError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
            p.sobject = sobject
            select = Select(sobject, ["Id"])
            if p.peek() and p.peek().text == "(":  # type: ignore[union-attr]
                p.pos += 1
                select.fields = p.field_list()
                if p.kw("WHERE"):
                    select.where = p.condition()
                select.limit = p.limit()
                p.expect_op(")")
            matcher = self._matcher(sobject, scope, phrases)
            where = select.where
            select.where = lambda r, w=where, m=matcher: m(r) and (w is None or w(r))
            found += self._select(select)
            if not (p.peek() and p.peek().text == ","):  # type: ignore[union-attr]
                break
            p.pos += 1
        limit = p.limit()
        if p.peek() is not None:
            raise SfError(400, "MALFORMED_SEARCH", f"unexpected token: '{p.peek().text}'")  # type: ignore[union-attr]
        return web.json_response({"searchRecords": found[:limit] if limit else found})

    def _matcher(self, sobject: str, scope: str, phrases: list[str]):  # type: ignore[no-untyped-def]
        fields = SCHEMA[sobject]["fields"]
        if scope == "PHONE":
            names = [f["name"] for f in fields if f["type"] == "phone"]
            wanted = {_digits(p) for p in phrases if _digits(p)}
            return lambda r: any(_digits(str(r.get(n) or "")) in wanted for n in names)
        if scope == "NAME":
            names = [f["name"] for f in fields if f["nameField"]]
        elif scope == "EMAIL":
            names = [f["name"] for f in fields if f["type"] == "email"]
        else:
            names = [f["name"] for f in fields if f["type"] in ("string", "email", "phone")]
        lowered = [p.lower() for p in phrases]
        return lambda r: any(p in str(r.get(n) or "").lower() for n in names for p in lowered)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


# --- wiring for tests --------------------------------------------------------------------


def rsa_key_pair() -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair for the JWT bearer grant."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def adapter_context(
    sim: SalesforceSim,
    base_url: str,
    http: Any,
    *,
    client_secret: str | None = None,
    **settings: Any,
) -> Any:
    """An ``AdapterContext`` for the real adapter pointed at a running simulator."""
    from crm.registry import AdapterContext

    values: dict[str, Any] = {"login_url": base_url, "client_id": sim.client_id}
    values.update(settings)
    secrets_ = {"client_secret": sim.client_secret if client_secret is None else client_secret}
    if values.get("auth") == "jwt_bearer":
        secrets_ = {"private_key": values.pop("private_key")}
    return AdapterContext(
        configuration_id="cfg-salesforce-test",
        type="salesforce",
        label="Salesforce (simulator)",
        settings=values,
        secrets=secrets_,
        http=http,
        default_phone_region="DE",
    )
