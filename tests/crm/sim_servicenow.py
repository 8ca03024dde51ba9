"""A ServiceNow simulator: an aiohttp app on loopback speaking the Table API's wire format.

Rows live in dicts per table, including the metadata tables the adapter reads
(``sys_db_object`` with ``super_class``, ``sys_dictionary``) and ``sys_journal_field``,
which collects every write to a journal field (``work_notes``, ``comments``) the way the
platform does: a ``PATCH`` with field values and a work note changes the fields and adds
the entry together, and one a data policy refuses (``403`` "Data Policy Exception: <label>
is mandatory") writes neither. It parses the encoded-query subset the adapter generates
(``=``, ``!=``, ``LIKE``, ``STARTSWITH``, ``IN``, ``ISNOTEMPTY``, ``^``, ``^OR``, ``^NQ``,
``ORDERBY[DESC]``) **structurally, like ServiceNow**: a ``^`` inside a value starts a new
condition, and a condition on an unknown field is ignored (the default of
``glide.invalid_query.returns_no_rows``). So an adapter that let a value through unchecked
would visibly match more rows here.

Auth: Basic, or OAuth tokens from ``/oauth_token.do`` (password and refresh-token grants,
``expires_in``, the 401 "User Not Authenticated" reply for expired tokens). Paging via
``sysparm_limit``/``sysparm_offset`` with ``Link`` and ``X-Total-Count`` headers; v1 answers
404 to an empty list. Tests queue 429 (``Retry-After``, ``X-RateLimit-*``), 5xx and stalls.
Assumption (not confirmed by the docs): ``=`` and ``LIKE`` compare case-insensitively, as
instances on the default database collation do.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .dataset import PEOPLE, Person

__all__ = ["ServiceNowSim", "USERNAME", "PASSWORD", "CLIENT_ID", "CLIENT_SECRET"]

USERNAME, PASSWORD = "svc.customercard", "pw-Secret-123"
CLIENT_ID, CLIENT_SECRET = "client-abc", "client-Secret-456"
_JSON: web.RequestKey[Any] = web.RequestKey("json", object)  # type: ignore[arg-type]

# table -> (super_class, label, [(element, label, internal_type, max_length, mandatory,
#            reference)])
Column = tuple[str, str, str, int, bool, str]
_SYS = [
    ("sys_id", "Sys ID", "GUID", 32, False, ""),
    ("sys_created_on", "Created", "glide_date_time", 40, False, ""),
    ("sys_updated_on", "Updated", "glide_date_time", 40, False, ""),
]
TABLES: dict[str, tuple[str | None, str, list[Column]]] = {
    "task": (
        None,
        "Task",
        _SYS
        + [
            ("number", "Number", "string", 40, False, ""),
            ("short_description", "Short description", "string", 160, False, ""),
            ("description", "Description", "string", 4000, False, ""),
            ("work_notes", "Work notes", "journal_input", 4000, False, ""),
            ("comments", "Additional comments", "journal_input", 4000, False, ""),
            ("state", "State", "integer", 40, False, ""),
            ("priority", "Priority", "integer", 40, False, ""),
            ("company", "Company", "reference", 32, False, "core_company"),
            ("active", "Active", "boolean", 40, False, ""),
        ],
    ),
    "incident": (
        "task",
        "Incident",
        [
            ("caller_id", "Caller", "reference", 32, False, "sys_user"),
            ("category", "Category", "string", 40, False, ""),
            # dictionary override: mandatory on incident (enforced like a data policy)
            ("short_description", "Short description", "string", 160, True, ""),
        ],
    ),
    "sys_user": (
        None,
        "User",
        _SYS
        + [
            ("user_name", "User ID", "string", 40, False, ""),
            ("first_name", "First name", "string", 50, False, ""),
            ("last_name", "Last name", "string", 50, False, ""),
            ("name", "Name", "string", 151, False, ""),
            ("email", "Email", "email", 100, False, ""),
            ("phone", "Business phone", "ph_number", 40, False, ""),
            ("mobile_phone", "Mobile phone", "ph_number", 40, False, ""),
            ("home_phone", "Home phone", "ph_number", 40, False, ""),
            ("title", "Title", "string", 60, False, ""),
            ("company", "Company", "reference", 32, False, "core_company"),
            ("active", "Active", "boolean", 40, False, ""),
        ],
    ),
    "core_company": (
        None,
        "Company",
        _SYS
        + [
            ("name", "Name", "string", 80, False, ""),
            ("phone", "Phone", "ph_number", 40, False, ""),
            ("city", "City", "string", 40, False, ""),
            ("country", "Country", "string", 40, False, ""),
        ],
    ),
    "interaction": (
        None,
        "Interaction",
        _SYS
        + [
            ("number", "Number", "string", 40, False, ""),
            ("type", "Type", "string", 40, False, ""),
            ("state", "State", "string", 40, False, ""),
            ("opened_for", "Opened for", "reference", 32, False, "sys_user"),
            ("short_description", "Short description", "string", 160, False, ""),
            ("work_notes", "Work notes", "journal_input", 4000, False, ""),
            ("context_table", "Context table", "table_name", 80, False, ""),
            ("context_document", "Context document", "document_id", 32, False, ""),
        ],
    ),
    "u_parcel": (
        None,
        "Parcel",
        _SYS + [("u_tracking", "Tracking number", "string", 40, False, "")],
    ),
    "sys_journal_field": (
        None,
        "Journal Entry",
        _SYS
        + [
            ("name", "Table", "string", 80, False, ""),
            ("element", "Element", "string", 40, False, ""),
            ("element_id", "Element ID", "GUID", 32, False, ""),
            ("value", "Value", "string", 4000, False, ""),
        ],
    ),
    "sys_db_object": (
        None,
        "Table",
        _SYS
        + [
            ("name", "Name", "string", 80, False, ""),
            ("label", "Label", "string", 80, False, ""),
            ("super_class", "Extends table", "reference", 32, False, "sys_db_object"),
        ],
    ),
    "sys_dictionary": (
        None,
        "Dictionary Entry",
        _SYS
        + [
            (name, name, "string", 80, False, "")
            for name in (
                "name",
                "element",
                "column_label",
                "internal_type",
                "max_length",
                "mandatory",
                "read_only",
                "reference",
                "choice",
                "active",
            )
        ],
    ),
}
NUMBER_PREFIX = {"incident": "INC", "interaction": "IMS"}
_OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "NOTLIKE",
    "LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "NOT IN",
    "IN",
    "!=",
    "<=",
    ">=",
    "=",
    "<",
    ">",
)
_FIELD = re.compile(r"([a-z][a-z0-9_.]*)(.*)", re.S)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _failure(status: int, message: str, detail: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "detail": detail}, "status": "failure"}, status=status
    )


Predicate = Callable[[dict[str, Any]], bool]


def parse_query(query: str, known: set[str]) -> tuple[Predicate, list[tuple[str, bool]]]:
    """A predicate and the ORDERBY list for an encoded query, parsed like the platform:
    terms split at every ``^``; conditions on fields not in ``known`` are ignored."""
    order: list[tuple[str, bool]] = []
    groups: list[list[list[Predicate]]] = []
    for chunk in query.split("^NQ"):
        conjuncts: list[list[Predicate]] = []
        for part in chunk.split("^"):
            if not part or part == "EQ":
                continue
            if part.startswith("ORDERBY"):
                desc = part.startswith("ORDERBYDESC")
                order.append((part[11:] if desc else part[7:], desc))
                continue
            if part.startswith("OR") and conjuncts:
                conjuncts[-1].append(_condition(part[2:], known))
                continue
            conjuncts.append([_condition(part, known)])
        groups.append(conjuncts)

    def matches(row: dict[str, Any]) -> bool:
        return any(all(any(alt(row) for alt in alts) for alts in conj) for conj in groups)

    return matches, order


def _condition(text: str, known: set[str]) -> Predicate:
    match = _FIELD.match(text)
    if not match or match.group(1) not in known:
        return lambda row: True  # invalid condition: ignored by default
    field, rest = match.groups()
    for op in _OPERATORS:
        if rest.startswith(op):
            return _compare(field, op, rest[len(op) :])
    return lambda row: True


def _compare(field: str, op: str, value: str) -> Predicate:
    wanted = value.lower()

    def check(row: dict[str, Any]) -> bool:
        stored = str(row.get(field) or "").lower()
        if op == "=":
            return stored == wanted
        if op == "!=":
            return stored != wanted
        if op == "LIKE":
            return wanted in stored
        if op == "NOTLIKE":
            return wanted not in stored
        if op == "STARTSWITH":
            return stored.startswith(wanted)
        if op == "ENDSWITH":
            return stored.endswith(wanted)
        if op in ("IN", "NOT IN"):
            return (stored in wanted.split(",")) == (op == "IN")
        if op == "ISEMPTY":
            return not stored
        if op == "ISNOTEMPTY":
            return bool(stored)
        raise ValueError(f"operator {op} not simulated")

    return check


class ServiceNowSim:
    """State plus the aiohttp app. ``requests`` logs ``(method, path, query, json)``."""

    def __init__(self, *, token_lifetime: int = 1799) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABLES}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.token_grants: list[str] = []
        self.token_lifetime = token_lifetime
        self.unfiltered: set[str] = set()  # tables whose look-ups ignore the filter: a wrong reply
        self.access_tokens: dict[str, float] = {}  # token -> expires at (time.time())
        self.refresh_tokens: set[str] = set()
        self.throttles: list[str | None] = []
        self.failures: list[int] = []
        self.stalls: list[float] = []
        self._numbers: dict[str, int] = {}
        self._table_ids: dict[str, str] = {}
        self._seed_metadata()

    # --- test controls ------------------------------------------------------------------

    def throttle_next(self, retry_after: str | None = "7") -> None:
        self.throttles.append(retry_after)

    def fail_next(self, status: int = 500) -> None:
        self.failures.append(status)

    def stall_next(self, seconds: float) -> None:
        self.stalls.append(seconds)

    def expire_access_tokens(self) -> None:
        self.access_tokens = {token: 0.0 for token in self.access_tokens}

    def journal_for(self, record_id: str) -> list[dict[str, Any]]:
        return [
            r for r in self.tables["sys_journal_field"].values() if r["element_id"] == record_id
        ]

    def interactions_for(self, record_id: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.tables["interaction"].values()
            if record_id in (r.get("opened_for"), r.get("context_document"))
        ]

    # --- data ---------------------------------------------------------------------------

    def _chain(self, table: str) -> list[str]:
        chain = [table]
        while (parent := TABLES[chain[-1]][0]) is not None:
            chain.append(parent)
        return chain

    def columns(self, table: str) -> dict[str, Column]:
        """Columns of ``table`` including inherited ones; the child's definition wins."""
        merged: dict[str, Column] = {}
        for name in reversed(self._chain(table)):
            merged.update({column[0]: column for column in TABLES[name][2]})
        return merged

    def _seed_metadata(self) -> None:
        for table in TABLES:
            self._table_ids[table] = uuid.uuid4().hex
        for table, (parent, label, columns) in TABLES.items():
            self._put(
                "sys_db_object",
                {
                    "sys_id": self._table_ids[table],
                    "name": table,
                    "label": label,
                    "super_class": self._table_ids.get(parent or "", ""),
                },
            )
            self._put(
                "sys_dictionary",
                {
                    "name": table,
                    "element": "",
                    "column_label": label,
                    "internal_type": "collection",
                    "active": "true",
                },
            )
            for element, column_label, kind, length, mandatory, reference in columns:
                self._put(
                    "sys_dictionary",
                    {
                        "name": table,
                        "element": element,
                        "column_label": column_label,
                        "internal_type": kind,
                        "max_length": str(length),
                        "mandatory": str(mandatory).lower(),
                        "read_only": "false",
                        "reference": reference,
                        "choice": "0",
                        "active": "true",
                    },
                )

    def _put(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        row.setdefault("sys_id", uuid.uuid4().hex)
        row.setdefault("sys_created_on", _now())
        row["sys_updated_on"] = _now()
        self.tables[table][row["sys_id"]] = row
        return row

    def seed(self, people: Iterable[Person] = PEOPLE) -> None:
        companies: dict[str, str] = {}
        for person in people:
            if person.company and person.company not in companies:
                companies[person.company] = self.insert("core_company", {"name": person.company})[
                    "sys_id"
                ]
            self.insert(
                "sys_user",
                {
                    "user_name": person.email.split("@")[0],
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": person.email,
                    "phone": person.phone,
                    "mobile_phone": person.mobile,
                    "company": companies.get(person.company, ""),
                    "active": "true",
                },
            )
        anna = next(iter(self.tables["sys_user"].values()))
        self.insert(
            "incident",
            {
                "short_description": "Lieferung verspätet",
                "caller_id": anna["sys_id"],
                "state": "1",
                "active": "true",
            },
        )

    def insert(self, table: str, values: dict[str, Any]) -> dict[str, Any]:
        """A row as the platform stores it (unknown fields dropped, journals moved)."""
        columns = self.columns(table)
        row = {name: "" for name in columns}
        row.update({k: str(v) for k, v in values.items() if k in columns})
        if table in NUMBER_PREFIX and not row.get("number"):
            self._numbers[table] = self._numbers.get(table, 10000) + 1
            row["number"] = f"{NUMBER_PREFIX[table]}{self._numbers[table]:07d}"
        row["sys_id"] = uuid.uuid4().hex
        self._derive(table, row)
        self._put(table, row)
        self._journal(table, row)
        return row

    def _derive(self, table: str, row: dict[str, Any]) -> None:
        if table == "sys_user":
            row["name"] = f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()

    def _journal(self, table: str, row: dict[str, Any]) -> None:
        for name, column in self.columns(table).items():
            if column[2] == "journal_input" and row.get(name):
                self._put(
                    "sys_journal_field",
                    {
                        "name": table,
                        "element": name,
                        "element_id": row["sys_id"],
                        "value": row[name],
                        "sys_created_by": USERNAME,
                    },
                )
                row[name] = ""  # the Table API does not echo journal input back

    # --- the app ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._edge])
        app.router.add_post("/oauth_token.do", self._token)
        for base in ("/api/now/table", "/api/now/{ver:v[12]}/table"):
            app.router.add_get(base + "/{table}", self._list)
            app.router.add_post(base + "/{table}", self._create)
            app.router.add_get(base + "/{table}/{sys_id}", self._get)
            app.router.add_patch(base + "/{table}/{sys_id}", self._update)
            app.router.add_put(base + "/{table}/{sys_id}", self._update)
        return app

    def _authorised(self, header: str) -> bool:
        basic = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if header == basic:
            return True
        token = header.removeprefix("Bearer ")
        return header.startswith("Bearer ") and self.access_tokens.get(token, 0) > time.time()

    @web.middleware
    async def _edge(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = None
        if request.can_read_body and request.content_type == "application/json":
            body = await request.json()
        self.requests.append((request.method, request.path, dict(request.query), body))
        request[_JSON] = body
        if request.path == "/oauth_token.do":
            return await handler(request)
        if not self._authorised(request.headers.get("Authorization", "")):
            return _failure(401, "User Not Authenticated", "Required to provide Auth information")
        if self.stalls:
            await asyncio.sleep(self.stalls.pop(0))
        if self.failures:
            return _failure(self.failures.pop(0), "Internal server error")
        if self.throttles:
            retry_after = self.throttles.pop(0)
            response = _failure(
                429, "Too Many Requests", "Rate limit of 1000 requests per hour exceeded"
            )
            response.headers.update(
                {
                    "X-RateLimit-Limit": "1000",
                    "X-RateLimit-Reset": str(int(time.time()) + 30),
                    "X-RateLimit-Rule": uuid.uuid4().hex,
                }
            )
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        return await handler(request)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        denied = web.json_response(
            {"error_description": "access_denied", "error": "server_error"}, status=401
        )
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return denied
        grant = str(form.get("grant_type"))
        self.token_grants.append(grant)
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
                return denied
            refresh = uuid.uuid4().hex
            self.refresh_tokens.add(refresh)
        elif grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            refresh = str(form["refresh_token"])
        else:
            return denied
        access = uuid.uuid4().hex
        self.access_tokens[access] = time.time() + self.token_lifetime
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "scope": "useraccount",
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
            }
        )

    def _table(self, request: web.Request) -> str | None:
        table = request.match_info["table"]
        return table if table in self.tables else None

    def _view(self, table: str, row: dict[str, Any], request: web.Request) -> dict[str, Any]:
        fields = [f for f in request.query.get("sysparm_fields", "").split(",") if f]
        view = {k: v for k, v in row.items() if not fields or k in fields}
        if request.query.get("sysparm_exclude_reference_link") != "true":
            base = f"{request.scheme}://{request.host}/api/now/table"
            columns = self.columns(table)
            for name, value in list(view.items()):
                reference = columns.get(name, ("", "", "", 0, False, ""))[5]
                if reference and value:
                    view[name] = {"link": f"{base}/{reference}/{value}", "value": value}
        return view

    async def _list(self, request: web.Request) -> web.Response:
        table = self._table(request)
        if table is None:
            return _failure(400, f"Invalid table {request.match_info['table']}")
        rows = list(self.tables[table].values())
        known = set(self.columns(table)) | {k for row in rows for k in row}
        matches, order = parse_query(request.query.get("sysparm_query", ""), known)
        hits = [row for row in rows if table in self.unfiltered or matches(row)]
        for field, desc in reversed(order):
            hits.sort(key=lambda row: str(row.get(field) or ""), reverse=desc)
        limit = int(request.query.get("sysparm_limit", "10000"))
        offset = int(request.query.get("sysparm_offset", "0"))
        page = hits[offset : offset + limit]
        if not page and request.match_info.get("ver") == "v1":
            return _failure(
                404,
                "No Record found",
                "Records matching query not found. Check query parameter or offset parameter",
            )
        response = web.json_response({"result": [self._view(table, r, request) for r in page]})
        response.headers["X-Total-Count"] = str(len(hits))
        links = []
        for rel, start in (
            ("first", 0),
            ("prev", offset - limit),
            ("next", offset + limit),
            ("last", max(0, (len(hits) - 1) // limit * limit)),
        ):
            if rel in ("prev", "next") and not 0 <= start < len(hits):
                continue
            url = request.url.update_query(sysparm_offset=str(start))
            links.append(f'<{url}>;rel="{rel}"')
        response.headers["Link"] = ",".join(links)
        return response

    async def _get(self, request: web.Request) -> web.Response:
        table = self._table(request)
        if table is None:
            return _failure(400, f"Invalid table {request.match_info['table']}")
        row = self.tables[table].get(request.match_info["sys_id"])
        if row is None:
            return _failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        return web.json_response({"result": self._view(table, row, request)})

    def _policy_violation(self, table: str, row: dict[str, Any]) -> web.Response | None:
        missing = [c[1] for c in self.columns(table).values() if c[4] and not row.get(c[0])]
        if not missing:
            return None
        return _failure(
            403,
            "Operation Failed",
            "Data Policy Exception: \n\t"
            + "\n\t".join(f"{label} is mandatory" for label in missing),
        )

    async def _create(self, request: web.Request) -> web.Response:
        table = self._table(request)
        if table is None:
            return _failure(400, f"Invalid table {request.match_info['table']}")
        values = dict(request[_JSON] or {})
        violation = self._policy_violation(table, values)
        if violation:
            return violation
        row = self.insert(table, values)
        return web.json_response({"result": self._view(table, row, request)}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        table = self._table(request)
        if table is None:
            return _failure(400, f"Invalid table {request.match_info['table']}")
        row = self.tables[table].get(request.match_info["sys_id"])
        if row is None:
            return _failure(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        columns = self.columns(table)
        changed = {k: str(v) for k, v in (request[_JSON] or {}).items() if k in columns}
        violation = self._policy_violation(table, {**row, **changed})
        if violation:
            return violation
        row.update(changed)
        self._derive(table, row)
        row["sys_updated_on"] = _now()
        self._journal(table, row)
        return web.json_response({"result": self._view(table, row, request)})


async def start_adapter(
    aiohttp_server: Any,
    http: Any,
    sim: ServiceNowSim | None = None,
    secrets: dict[str, str] | None = None,
    **settings: Any,
) -> tuple[ServiceNowSim, Any]:
    """A seeded simulator on loopback and the real adapter (from the registry) pointed at it."""
    from crm.registry import AdapterContext, create_adapter

    if sim is None:
        sim = ServiceNowSim()
        sim.seed()
    server = await aiohttp_server(sim.app())
    base = str(server.make_url("/")).rstrip("/")
    config = {"instance": "acme", "api_base": base, **settings}
    credentials = secrets or {
        "username": USERNAME,
        "password": PASSWORD,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    adapter = create_adapter(
        AdapterContext(
            configuration_id="cfg-servicenow",
            type="servicenow",
            label="ServiceNow",
            settings=config,
            secrets=credentials,
            http=http,
        )
    )
    return sim, adapter
