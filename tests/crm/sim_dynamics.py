"""A local Dataverse simulator: an aiohttp app speaking the Web API (OData v4) and, beside
it, the Entra ID endpoints MSAL uses (OIDC discovery document and v2.0 token endpoint).

Records live in dicts; ``$filter`` strings are *evaluated* by a small OData parser for the
subset the adapter sends (eq/ne, contains/startswith with Dataverse's LIKE wildcards
``% _ [..]``, and/or/not, parentheses, GUID and string literals), after the query string
was URL-decoded the way Dataverse decodes it (a raw ``+`` becomes a space).
Controls: ``expire_tokens()``, ``throttle_next`` (429 + Retry-After), ``fail_next``,
``delay``, ``page_size`` (default page when no maxpagesize preference) and ``requests``.

``POST $batch`` (Microsoft Learn, "Execute batch operations using the Web API") takes a
multipart/mixed body of application/http parts; each part goes to the same handlers as a
plain request, and the multipart/mixed reply holds each part's status line, headers and
body. Without ``Prefer: odata.continue-on-error`` the first failing part ends the batch and
is the whole reply, with its status. Throttling, failures and the service protection
header ``x-ms-ratelimit-burst-remaining-xrm-requests`` belong to the outer request only (a
batch counts as one request: "Service protection API limits"); ``batch_parts`` lists the
parts served. Change sets (atomic groups) are not simulated: the adapter sends none.

MSAL only speaks https, so tests serve this app with TLS (``tls_files`` makes a throw-away
CA and server certificate for 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.parser
import email.policy
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from tests.crm.dataset import PEOPLE

# --- schema ----------------------------------------------------------------------------------


def _a(
    name: str,
    kind: str,
    length: int | None = None,
    *,
    fmt: str | None = None,
    required: str = "None",
    create: bool = True,
    update: bool = True,
    label: str = "",
    targets: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "length": length,
        "format": fmt,
        "required": required,
        "create": create,
        "update": update,
        "label": label or name.title(),
        "custom": name.startswith("new_"),
        "targets": targets,
        "options": options,
    }


_COMMON = [
    _a("createdon", "DateTime", create=False, update=False),
    _a("modifiedon", "DateTime", create=False, update=False),
    _a("ownerid", "Owner", required="SystemRequired", targets=("systemuser",)),
]
_PHONE = dict(kind="String", length=50, fmt="Phone")

TABLES: dict[str, dict[str, Any]] = {
    "contact": {
        "set": "contacts",
        "id": "contactid",
        "name": "fullname",
        "label": "Contact",
        "attributes": _COMMON
        + [
            _a("contactid", "Uniqueidentifier", create=False, update=False),
            _a("firstname", "String", 50, fmt="Text", label="First Name"),
            _a(
                "lastname",
                "String",
                50,
                fmt="Text",
                required="ApplicationRequired",
                label="Last Name",
            ),
            _a("fullname", "String", 160, fmt="Text", create=False, update=False),
            _a("emailaddress1", "String", 100, fmt="Email", label="Email"),
            _a("emailaddress2", "String", 100, fmt="Email"),
            _a("emailaddress3", "String", 100, fmt="Email"),
            _a("telephone1", **_PHONE, label="Business Phone"),
            _a("telephone2", **_PHONE),
            _a("telephone3", **_PHONE),
            _a("mobilephone", **_PHONE),
            _a("jobtitle", "String", 100, fmt="Text", label="Job Title"),
            _a("description", "Memo", 2000),
            _a("parentcustomerid", "Customer", targets=("account", "contact")),
            _a("preferredcontactmethodcode", "Picklist", options=("Any", "Email", "Phone")),
            _a("new_callnotes", "Memo", 100000, label="Call Notes"),
        ],
    },
    "account": {
        "set": "accounts",
        "id": "accountid",
        "name": "name",
        "label": "Account",
        "attributes": _COMMON
        + [
            _a("accountid", "Uniqueidentifier", create=False, update=False),
            _a("name", "String", 160, fmt="Text", required="ApplicationRequired"),
            _a("telephone1", **_PHONE),
            _a("telephone2", **_PHONE),
            _a("telephone3", **_PHONE),
            _a("emailaddress1", "String", 100, fmt="Email"),
            _a("emailaddress2", "String", 100, fmt="Email"),
            _a("emailaddress3", "String", 100, fmt="Email"),
            _a("websiteurl", "String", 200, fmt="Url"),
            _a("description", "Memo", 2000),
        ],
    },
    "lead": {
        "set": "leads",
        "id": "leadid",
        "name": "fullname",
        "label": "Lead",
        "attributes": _COMMON
        + [
            _a("leadid", "Uniqueidentifier", create=False, update=False),
            _a("firstname", "String", 50, fmt="Text"),
            _a("lastname", "String", 50, fmt="Text", required="ApplicationRequired"),
            _a("fullname", "String", 160, fmt="Text", create=False, update=False),
            _a("companyname", "String", 100, fmt="Text"),
            _a("emailaddress1", "String", 100, fmt="Email"),
            _a("emailaddress2", "String", 100, fmt="Email"),
            _a("emailaddress3", "String", 100, fmt="Email"),
            _a("telephone1", **_PHONE),
            _a("telephone2", **_PHONE),
            _a("telephone3", **_PHONE),
            _a("mobilephone", **_PHONE),
        ],
    },
    "incident": {
        "set": "incidents",
        "id": "incidentid",
        "name": "title",
        "label": "Case",
        "attributes": _COMMON
        + [
            _a("incidentid", "Uniqueidentifier", create=False, update=False),
            _a(
                "title",
                "String",
                200,
                fmt="Text",
                required="ApplicationRequired",
                label="Case Title",
            ),
            _a("ticketnumber", "String", 100, fmt="Text", create=False, update=False),
            _a("description", "Memo", 2000),
            _a("customerid", "Customer", targets=("account", "contact")),
            _a("prioritycode", "Picklist", options=("High", "Normal", "Low")),
        ],
    },
    "phonecall": {
        "set": "phonecalls",
        "id": "activityid",
        "name": "subject",
        "label": "Phone Call",
        "activity": True,
        "attributes": _COMMON
        + [
            _a("activityid", "Uniqueidentifier", create=False, update=False),
            _a("subject", "String", 200, fmt="Text"),
            _a("description", "Memo", 2000),
            _a("phonenumber", "String", 200, fmt="Text"),
            _a("directioncode", "Boolean"),
            _a("actualdurationminutes", "Integer"),
            _a("actualstart", "DateTime"),
            _a("actualend", "DateTime"),
            _a("regardingobjectid", "Lookup", targets=("contact", "account", "lead", "incident")),
            _a("new_interactionkey", "String", 200, fmt="Text"),
        ],
    },
    "task": {
        "set": "tasks",
        "id": "activityid",
        "name": "subject",
        "label": "Task",
        "activity": True,
        "attributes": _COMMON
        + [
            _a("activityid", "Uniqueidentifier", create=False, update=False),
            _a("subject", "String", 200, fmt="Text"),
            _a("description", "Memo", 2000),
            _a("actualdurationminutes", "Integer"),
            _a("actualstart", "DateTime"),
            _a("actualend", "DateTime"),
            _a("regardingobjectid", "Lookup", targets=("contact", "account", "lead", "incident")),
            _a("new_interactionkey", "String", 200, fmt="Text"),
        ],
    },
    "new_project": {
        "set": "new_projects",
        "id": "new_projectid",
        "name": "new_name",
        "label": "Project",
        "custom": True,
        "attributes": _COMMON
        + [
            _a("new_projectid", "Uniqueidentifier", create=False, update=False),
            _a("new_name", "String", 100, fmt="Text", required="ApplicationRequired"),
            _a("new_status", "String", 40, fmt="Text"),
        ],
    },
}
# An intersect table: in EntityDefinitions, never offered to users.
HIDDEN_TABLES = [
    {
        "LogicalName": "contactleads",
        "EntitySetName": "contactleadscollection",
        "IsCustomEntity": False,
        "IsActivity": False,
        "HasActivities": False,
        "IsValidForAdvancedFind": False,
        "IsIntersect": True,
        "DisplayName": {"UserLocalizedLabel": None},
    }
]
_BY_SET = {spec["set"]: name for name, spec in TABLES.items()}


def _attrs(table: str) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in TABLES[table]["attributes"]}


class DvError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        return web.json_response(
            {"error": {"code": self.code, "message": self.message}}, status=self.status
        )


def _syntax(message: str) -> DvError:
    return DvError(400, "0x80060888", message)


# --- OData $filter subset ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^']|'')*')|
    (?P<guid>[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})|
    (?P<num>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[(),]))""",
    re.X,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise _syntax(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def like_regex(pattern: str) -> re.Pattern[str]:
    """T-SQL LIKE semantics as Dataverse applies them to contains/startswith/endswith."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("^")
                body = body[1:] if negate else body
                chars = "".join(
                    c if c == "-" and 0 < k < len(body) - 1 else re.escape(c)
                    for k, c in enumerate(body)
                )
                out.append(f"[{'^' if negate else ''}{chars}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.I | re.S)


class FilterParser:
    def __init__(self, text: str, table: str) -> None:
        self.tokens, self.pos, self.table, self.text = tokenize(text), 0, table, text

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def word(self, word: str) -> bool:
        tok = self.peek()
        if tok and tok[0] == "name" and tok[1] == word:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.peek()
        if not tok or tok[1] != text:
            raise _syntax(f"Syntax error: expected '{text}' in '{self.text}'.")
        self.pos += 1

    def parse(self):  # type: ignore[no-untyped-def]
        expr = self.or_expr()
        if self.peek() is not None:
            raise _syntax(f"Syntax error at '{self.peek()[1]}' in '{self.text}'.")  # type: ignore[index]
        return expr

    def or_expr(self):  # type: ignore[no-untyped-def]
        parts = [self.and_expr()]
        while self.word("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self):  # type: ignore[no-untyped-def]
        parts = [self.unary()]
        while self.word("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self):  # type: ignore[no-untyped-def]
        if self.word("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        tok = self.peek()
        if tok and tok[1] == "(":
            self.pos += 1
            inner = self.or_expr()
            self.expect(")")
            return inner
        if tok and tok[0] == "name" and tok[1] in ("contains", "startswith", "endswith"):
            self.pos += 1
            self.expect("(")
            column = self.property()
            self.expect(",")
            value = self.value()
            self.expect(")")
            if not isinstance(value, str):
                raise _syntax("string functions need a string literal")
            body = like_regex(value).pattern
            regex = re.compile(
                {"contains": f".*{body}.*", "startswith": f"{body}.*", "endswith": f".*{body}"}[
                    tok[1]
                ],
                re.I | re.S,
            )
            return lambda r: r.get(column) is not None and bool(regex.fullmatch(str(r[column])))
        column = self.property()
        op = self.peek()
        if not op or op[1] not in ("eq", "ne"):
            raise _syntax(f"Syntax error: expected an operator in '{self.text}'.")
        self.pos += 1
        value = self.value()
        if op[1] == "eq":
            return lambda r: _equal(r.get(column), value)
        return lambda r: not _equal(r.get(column), value)

    def property(self) -> str:
        tok = self.peek()
        if not tok or tok[0] != "name":
            raise _syntax(f"Syntax error: expected a property in '{self.text}'.")
        self.pos += 1
        name = tok[1]
        lookup = re.fullmatch(r"_(\w+)_value", name)
        known = _attrs(self.table)
        if name not in known and not (lookup and lookup.group(1) in known):
            raise DvError(
                400,
                "0x80060888",
                f"Could not find a property named '{name}' on "
                f"type 'Microsoft.Dynamics.CRM.{self.table}'.",
            )
        return name

    def value(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise _syntax(f"Syntax error: expected a value in '{self.text}'.")
        self.pos += 1
        kind, text = tok
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "guid":
            return uuid.UUID(text)
        if kind == "num":
            return float(text)
        if kind == "name" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        raise _syntax(f"Syntax error at '{text}' in '{self.text}'.")


def _equal(stored: Any, value: Any) -> bool:
    if value is None or stored is None:
        return stored is value
    if isinstance(value, uuid.UUID):
        return str(stored).lower() == str(value)
    if isinstance(value, str):
        return str(stored).lower() == value.lower()
    if isinstance(value, bool):
        return stored is value
    try:
        return float(stored) == value
    except (TypeError, ValueError):
        return False


# --- the simulator ---------------------------------------------------------------------------


@dataclass
class Call:
    """A Web API request as the handlers read it: a plain request, or one part of a batch
    (``web.Request`` has the same attributes)."""

    method: str
    scheme: str
    host: str
    path: str
    query: MultiDictProxy[str]
    headers: CIMultiDictProxy[str]
    body: bytes

    async def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class DataverseSim:
    tenant_id: str = "11111111-2222-3333-4444-555555555555"
    client_id: str = "sim-app-id"
    client_secret: str = "sim-app-secret"
    expires_in: int = 3599
    page_size: int = 5000
    throttle_next: int = 0
    retry_after: int = 7
    fail_next: list[int] = field(default_factory=list)
    delay: float = 0.0
    require_case_customer: bool = False
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tokens_issued: int = 0
    discovery_calls: int = 0
    token_scopes: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    batch_parts: list[tuple[str, str]] = field(default_factory=list)  # (method, path) served
    burst_limit: int = 6000  # requests per 5-minute window; each reply says what is left
    _tokens: set[str] = field(default_factory=set)
    _pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # tables this organization lacks (no `lead` without Dynamics 365 Sales)
    missing: set[str] = field(default_factory=set)
    unfiltered: set[str] = field(
        default_factory=set
    )  # tables whose look-ups ignore the filter: a wrong reply

    def __post_init__(self) -> None:
        for table in TABLES:
            self.records.setdefault(table, {})
        if not any(self.records.values()):
            self.seed()

    def expire_tokens(self) -> None:
        """Every issued token is now refused with 401 (as an expired one is)."""
        self._tokens.clear()

    def seed(self) -> None:
        accounts: dict[str, str] = {}
        for person in PEOPLE:
            if person.company and person.company not in accounts:
                accounts[person.company] = self.insert("account", {"name": person.company})
            contact = self.insert(
                "contact",
                {
                    "firstname": person.first_name,
                    "lastname": person.last_name,
                    "emailaddress1": person.email,
                    "telephone1": person.phone,
                    "mobilephone": person.mobile or None,
                    "_parentcustomerid_value": accounts.get(person.company),
                    "_parentcustomerid_type": "account",
                },
            )
            if person.first_name == "Anna":
                self.insert(
                    "incident",
                    {
                        "title": "Delivery delayed",
                        "_customerid_value": contact,
                        "_customerid_type": "contact",
                    },
                )

    def insert(self, table: str, values: dict[str, Any]) -> str:
        spec = TABLES[table]
        record_id = str(uuid.uuid4())
        record: dict[str, Any] = {}
        for a in spec["attributes"]:
            key = (
                f"_{a['name']}_value" if a["type"] in ("Lookup", "Customer", "Owner") else a["name"]
            )
            record[key] = None
        record.update(
            {
                spec["id"]: record_id,
                "createdon": _now(),
                "_ownerid_value": "00000000-0000-0000-0000-00000000aaaa",
                "_ownerid_type": "systemuser",
            }
        )
        if table == "incident":
            record["ticketnumber"] = f"CAS-{len(self.records['incident']) + 1001:05d}"
        record.update(values)
        self.records[table][record_id] = record
        self._computed(table, record)
        return record_id

    def _computed(self, table: str, record: dict[str, Any]) -> None:
        record["modifiedon"] = _now()
        if table in ("contact", "lead"):
            record["fullname"] = " ".join(
                p for p in (record.get("firstname"), record.get("lastname")) if p
            )

    # --- app -----------------------------------------------------------------------------

    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/api/data/{version}/{rest:.*}", self._api)
        return app

    async def _discovery(self, request: web.Request) -> web.Response:
        self.discovery_calls += 1
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return web.json_response(
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
                status=400,
            )
        base = f"{request.scheme}://{request.host}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_codes": [7000215],
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                status=401,
            )
        self.token_scopes.append(str(form.get("scope")))
        token = "eyJ0eXAiOiJKV1Qi.sim." + secrets.token_urlsafe(24)
        self._tokens.add(token)
        self.tokens_issued += 1
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": token,
            }
        )

    async def _api(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, request.query_string))
        response = await self._answer(request)
        remaining = max(0, self.burst_limit - len(self.requests))
        response.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(remaining)
        return response

    async def _answer(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._tokens:
            return web.Response(
                status=401,
                headers={
                    "WWW-Authenticate": (
                        'Bearer error="invalid_token", error_description="The access token is '
                        'expired", authorization_uri="https://login.microsoftonline.com/x"'
                    )
                },
            )
        if self.throttle_next:
            self.throttle_next -= 1
            return web.json_response(
                {
                    "error": {
                        "code": "0x80072322",
                        "message": "Number of requests exceeded the limit of "
                        "6000 over time window of 300 seconds.",
                    }
                },
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.fail_next:
            status = self.fail_next.pop(0)
            return web.json_response(
                {"error": {"code": "0x80040216", "message": "An unexpected error occurred."}},
                status=status,
            )
        try:
            self._check_version(request.match_info["version"])
            if request.match_info["rest"] == "$batch":
                return await self._batch(request)
            return await self._route(request, request.match_info["rest"])
        except DvError as exc:
            return exc.response()

    @staticmethod
    def _check_version(version: str) -> None:
        if version not in ("v9.0", "v9.1", "v9.2"):
            raise DvError(404, "", "Resource not found for the segment 'api'.")

    async def _batch(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            raise DvError(405, "0x80060888", "Method not allowed")
        content_type = request.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/mixed") or "boundary=" not in content_type:
            raise DvError(
                400, "0x80060888", "The batch request must have a multipart/mixed Content-Type."
            )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + await request.read()
        )
        keep_going = "odata.continue-on-error" in request.headers.get("Prefer", "")
        replies: list[bytes] = []
        status = 200
        for part in message.iter_parts():
            if part.get_content_type() != "application/http":
                raise DvError(
                    400,
                    "0x80060888",
                    f"Batch parts of type {part.get_content_type()} are not simulated.",
                )
            payload = part.get_payload(decode=True)
            answer = await self._part(request, payload if isinstance(payload, bytes) else b"")
            if answer.status >= 400 and not keep_going:
                replies, status = [_http_message(answer)], answer.status
                break
            replies.append(_http_message(answer))
        boundary = f"batchresponse_{uuid.uuid4()}"
        body = b"".join(
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n".encode()
            + reply
            + b"\r\n"
            for reply in replies
        )
        return web.Response(
            status=status,
            body=body + f"--{boundary}--\r\n".encode(),
            headers={
                "Content-Type": f"multipart/mixed; boundary={boundary}",
                "OData-Version": "4.0",
            },
        )

    async def _part(self, batch: web.Request, raw: bytes) -> web.Response:
        """One batch part through the handlers a plain request goes to."""
        head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        request_line, *lines = head.decode("latin-1").split("\n")
        words = request_line.split(" ")
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            return DvError(400, "0x80060888", "Invalid request line in a batch part.").response()
        method, target = words[0], URL(words[1])
        headers = CIMultiDict(
            (name.strip(), value.strip())
            for name, _, value in (line.partition(":") for line in lines if ":" in line)
        )
        self.batch_parts.append((method, target.path))
        call = Call(
            method,
            batch.scheme,
            batch.host,
            target.path,
            target.query,
            CIMultiDictProxy(headers),
            body.rstrip(b"\n") if body.strip() else b"",
        )
        match = re.fullmatch(r"/api/data/([^/]+)/(.+)", target.path)
        try:
            if match is None:
                raise DvError(404, "", f"Resource not found for the segment '{target.path}'.")
            self._check_version(match.group(1))
            return await self._route(call, match.group(2))
        except DvError as exc:
            return exc.response()

    async def _route(self, request: web.Request | Call, rest: str) -> web.Response:
        if rest == "WhoAmI":
            return web.json_response(
                {
                    "BusinessUnitId": str(uuid.uuid4()),
                    "UserId": "00000000-0000-0000-0000-00000000aaaa",
                    "OrganizationId": str(uuid.uuid4()),
                }
            )
        if rest.startswith("EntityDefinitions"):
            return self._metadata(rest, request)
        match = re.fullmatch(r"(\w+)(?:\(([^)]*)\))?", rest)
        if not match or _BY_SET.get(match.group(1)) in (None, *self.missing):
            raise DvError(
                404, "0x80060888", f"Resource not found for the segment '{rest.split('(')[0]}'."
            )
        table, key = _BY_SET[match.group(1)], match.group(2)
        prefer = request.headers.get("Prefer", "")
        if key is None and request.method == "GET":
            return self._list(request, table, prefer)
        if key is None and request.method == "POST":
            record_id = self.insert(table, self._write(table, await request.json(), True))
            return self._written(request, table, record_id, prefer, 201)
        if key is None:
            raise DvError(405, "0x80060888", "Method not allowed")
        try:
            record_id = str(uuid.UUID(key))
        except ValueError as exc:
            raise DvError(400, "0x80060888", "Bad Request - Error in query syntax.") from exc
        record = self.records[table].get(record_id)
        if record is None:
            raise DvError(
                404, "0x80040217", f"Entity '{table}' With Id = {record_id} Does Not Exist"
            )
        if request.method == "GET":
            return web.json_response(self._row(table, record, prefer))
        if request.method == "PATCH":
            record.update(self._write(table, await request.json(), False))
            self._computed(table, record)
            return self._written(request, table, record_id, prefer, 200)
        raise DvError(405, "0x80060888", "Method not allowed")

    def _written(
        self, request: web.Request | Call, table: str, record_id: str, prefer: str, status: int
    ) -> web.Response:
        entity_id = (
            f"{request.scheme}://{request.host}/api/data/v9.2/{TABLES[table]['set']}({record_id})"
        )
        if "return=representation" in prefer:
            return web.json_response(
                self._row(table, self.records[table][record_id], prefer),
                status=status,
                headers={"OData-EntityId": entity_id},
            )
        return web.Response(status=204, headers={"OData-EntityId": entity_id})

    def _row(self, table: str, record: dict[str, Any], prefer: str) -> dict[str, Any]:
        row: dict[str, Any] = {"@odata.etag": 'W/"1001"'}
        for key, value in record.items():
            if key.endswith("_type"):
                continue
            row[key] = value
            if (
                key.startswith("_")
                and key.endswith("_value")
                and value
                and "include-annotations" in prefer
            ):
                row[f"{key}@Microsoft.Dynamics.CRM.lookuplogicalname"] = record.get(
                    key[:-6] + "_type"
                )
        return row

    def _write(self, table: str, body: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise DvError(400, "0x80060888", "The request body is not a JSON object.")
        attrs = _attrs(table)
        clean: dict[str, Any] = {}
        for key, value in body.items():
            if key.endswith("@odata.bind"):
                column, target = self._bind(table, key[: -len("@odata.bind")], str(value))
                clean[f"_{column}_value"], clean[f"_{column}_type"] = target
                continue
            a = attrs.get(key)
            if a is None or a["type"] in ("Lookup", "Customer", "Owner"):
                raise DvError(
                    400,
                    "0x80060888",
                    f"The property '{key}' does not exist on type "
                    f"'Microsoft.Dynamics.CRM.{table}'. Make sure to only use property "
                    "names that are defined by the type.",
                )
            if not a["create" if creating else "update"]:
                raise DvError(400, "0x80060888", f"The property '{key}' cannot be set.")
            if isinstance(value, str) and a["length"] and len(value) > a["length"]:
                raise DvError(
                    400,
                    "0x80044331",
                    f"A validation error occurred. The length of "
                    f"the '{key}' attribute of the '{table}' entity exceeded the "
                    f"maximum allowed length of '{a['length']}'.",
                )
            clean[key] = value
        if (
            creating
            and table == "incident"
            and self.require_case_customer
            and not clean.get("_customerid_value")
        ):
            raise DvError(400, "0x80040278", "You should specify a parent contact or account.")
        return clean

    def _bind(self, table: str, nav: str, target: str) -> tuple[str, tuple[str, str]]:
        match = re.fullmatch(r"/(\w+)\(([0-9a-fA-F-]{36})\)", target)
        if not match or match.group(1) not in _BY_SET:
            raise DvError(400, "0x80060888", f"Invalid reference '{target[:60]}'.")
        target_table, target_id = _BY_SET[match.group(1)], match.group(2).lower()
        for a in TABLES[table]["attributes"]:
            names = {f"{a['name']}_{t}" for t in a["targets"]} | {
                f"{a['name']}_{t}_{table}" for t in a["targets"]
            }
            if a["type"] in ("Lookup", "Customer") and nav in names:
                if target_table not in a["targets"] or not nav.split("_")[1] == target_table:
                    break
                if target_id not in self.records[target_table]:
                    raise DvError(
                        404,
                        "0x80040217",
                        f"Entity '{target_table}' With Id = {target_id} Does Not Exist",
                    )
                return a["name"], (target_id, target_table)
        raise DvError(
            400,
            "0x80060888",
            f"An undeclared property '{nav}' which only has "
            "property annotations in the payload but no property value was found.",
        )

    def _list(self, request: web.Request | Call, table: str, prefer: str) -> web.Response:
        token = request.query.get("$skiptoken")
        if token is not None:
            rows = self._pages.pop(token, None)
            if rows is None:
                raise DvError(400, "0x80060888", "Invalid skip token.")
        else:
            rows = list(self.records[table].values())
            if "$filter" in request.query:
                predicate = FilterParser(request.query["$filter"], table).parse()
                rows = [r for r in rows if table in self.unfiltered or predicate(r)]
            order = request.query.get("$orderby", "")
            if order:
                column, _, direction = order.partition(" ")
                rows.sort(key=lambda r: str(r.get(column) or ""), reverse=direction == "desc")
            if "$top" in request.query:
                rows = rows[: int(request.query["$top"])]
            rows = [self._row(table, r, prefer) for r in rows]
        match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        size = int(match.group(1)) if match else self.page_size
        body: dict[str, Any] = {
            "@odata.context": f"$metadata#{TABLES[table]['set']}",
            "value": rows[:size],
        }
        if len(rows) > size:
            token = secrets.token_hex(6)
            self._pages[token] = rows[size:]
            body["@odata.nextLink"] = (
                f"{request.scheme}://{request.host}{request.path}?$skiptoken={token}"
            )
        return web.json_response(body)

    def _metadata(self, rest: str, request: web.Request | Call) -> web.Response:
        if rest == "EntityDefinitions":
            tables = [self._entity(name) for name in TABLES if name not in self.missing]
            return web.json_response({"value": tables + HIDDEN_TABLES})
        match = re.fullmatch(
            r"EntityDefinitions\(LogicalName='(\w+)'\)(/Attributes"
            r"(?:/Microsoft\.Dynamics\.CRM\.(\w+))?)?",
            rest,
        )
        if not match:
            raise DvError(400, "0x80060888", "Bad Request - Error in query syntax.")
        table = match.group(1)
        if table not in TABLES or table in self.missing:
            raise DvError(404, "0x80040217", f"Could not find entity with name '{table}'.")
        if not match.group(2):
            return web.json_response(self._entity(table))
        cast = match.group(3)
        attributes = TABLES[table]["attributes"]
        if cast is None:
            return web.json_response({"value": [self._attribute(a) for a in attributes]})
        kind = {
            "StringAttributeMetadata": "String",
            "MemoAttributeMetadata": "Memo",
            "PicklistAttributeMetadata": "Picklist",
        }.get(cast)
        if kind is None:
            raise DvError(400, "0x80060888", f"Unknown type '{cast}'.")
        rows = []
        for a in (a for a in attributes if a["type"] == kind):
            row: dict[str, Any] = {"LogicalName": a["name"]}
            if kind in ("String", "Memo"):
                row["MaxLength"] = a["length"]
            if kind == "String":
                row["FormatName"] = {"Value": a["format"]}
            if kind == "Picklist":
                row["OptionSet"] = {
                    "Options": [
                        {"Value": n + 1, "Label": {"UserLocalizedLabel": {"Label": o}}}
                        for n, o in enumerate(a["options"])
                    ]
                }
            rows.append(row)
        return web.json_response({"value": rows})

    def _entity(self, name: str) -> dict[str, Any]:
        spec = TABLES[name]
        return {
            "LogicalName": name,
            "EntitySetName": spec["set"],
            "PrimaryIdAttribute": spec["id"],
            "PrimaryNameAttribute": spec["name"],
            "DisplayName": {"UserLocalizedLabel": {"Label": spec["label"]}},
            "IsCustomEntity": bool(spec.get("custom")),
            "IsActivity": bool(spec.get("activity")),
            "HasActivities": not spec.get("activity"),
            "IsValidForAdvancedFind": True,
            "IsIntersect": False,
        }

    @staticmethod
    def _attribute(a: dict[str, Any]) -> dict[str, Any]:
        return {
            "LogicalName": a["name"],
            "AttributeType": a["type"],
            "DisplayName": {"UserLocalizedLabel": {"Label": a["label"]}},
            "RequiredLevel": {"Value": a["required"]},
            "IsValidForCreate": a["create"],
            "IsValidForUpdate": a["update"],
            "IsCustomAttribute": a["custom"],
            "AttributeOf": None,
            "@odata.type": f"#Microsoft.Dynamics.CRM.{a['type']}AttributeMetadata",
        }


def _http_message(response: web.Response) -> bytes:
    """A reply as a batch part carries it: status line, headers, blank line, body."""
    body = response.body if isinstance(response.body, bytes) else b""
    lines = [f"HTTP/1.1 {response.status} {response.reason}", "OData-Version: 4.0"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- TLS and wiring for tests ------------------------------------------------------------


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dataverse simulator CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def adapter_context(
    sim: DataverseSim,
    base_url: str,
    http: Any,
    ca_bundle: Path | str,
    *,
    client_secret: str | None = None,
    **settings: Any,
) -> Any:
    """An ``AdapterContext`` for the real adapter pointed at a running simulator: the
    simulator is both the organisation and the Entra authority."""
    from crm.registry import AdapterContext

    values: dict[str, Any] = {
        "org_url": base_url,
        "tenant_id": sim.tenant_id,
        "client_id": sim.client_id,
        "ca_bundle": str(ca_bundle),
        "authority": f"{base_url}/{sim.tenant_id}",
        "scope": "https://contoso.crm4.dynamics.com/.default",
    }
    values.update(settings)
    return AdapterContext(
        configuration_id="cfg-dynamics-test",
        type="dynamics",
        label="Dynamics 365 (simulator)",
        settings=values,
        http=http,
        default_phone_region="DE",
        secrets={"client_secret": sim.client_secret if client_secret is None else client_secret},
    )
