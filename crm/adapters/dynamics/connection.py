"""Dataverse's API session: Entra ID tokens (MSAL or a plain client-credentials POST), an optional
private CA bundle, Web API transport and error translation."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import requests

from ...errors import (
    ConfigError,
    CrmAuthError,
    CrmUnavailableError,
)
from ...http import observe_response, retry_once_on_401, safe_text, translate_transport_errors
from ...models import (
    CrmSystem,
    FieldInfo,
)
from ...registry import AdapterContext
from ...tokens import TokenManager
from .batch import BatchOperation, BatchReply, build_batch, parse_batch
from .query import (
    encode_query,
)
from .settings import DynamicsSettings
from .wire import (
    _ANNOTATIONS,
    QUOTA_HEADERS,
    STANDARD_TABLES,
    VENDOR,
    Table,
    _json,
    translate_error,
)

__all__ = ["DynamicsConnection"]

log = logging.getLogger(__name__)


class DynamicsConnection:
    """A Dataverse environment as the adapter reaches it: Entra ID tokens (MSAL, or a plain
    form POST), an optional private CA bundle, Web API calls with errors translated."""

    def __init__(self, context: AdapterContext, settings: DynamicsSettings) -> None:
        if not context.secrets.get("client_secret"):
            raise ConfigError("Dynamics needs the client_secret secret", field="client_secret")
        self._settings = settings
        self._secret = context.secrets["client_secret"]
        self._shared_http = context.http
        self._own_http: httpx.AsyncClient | None = None
        self._label = context.label
        self._region = context.default_phone_region
        self._tokens = TokenManager(
            self._mint_token, on_refresh=context.extra.get("on_token_refresh")
        )
        self._msal: Any = None  # ConfidentialClientApplication, built in a worker thread
        self._msal_session: Any = None
        # A token request's thread outlives a cancelled await: it must not open a session
        # after aclose() closed the last one (its sockets would never be closed).
        self._msal_guard = threading.Lock()
        self._closed = False
        timeout = context.http.timeout.connect if context.http is not None else None
        self._timeout = float(timeout or 10.0)
        self._tables: dict[str, Table] = dict(STANDARD_TABLES)
        self._fields: dict[str, list[FieldInfo]] = {}
        self._timeline_lock = asyncio.Lock()
        self._tokens.warm_up("Dynamics")

    @property
    def _http(self) -> httpx.AsyncClient:
        """The service's shared client, or, with ``ca_bundle``, one of our own that trusts
        that bundle: an organisation whose Web API (not only its token endpoint) presents a
        certificate from a private CA. Made on first use, so building the adapter reads no
        file."""
        if not self._settings.ca_bundle:
            return self._shared_http
        if self._own_http is None:
            timeout = self._shared_http.timeout if self._shared_http is not None else 10.0
            self._own_http = httpx.AsyncClient(
                verify=ssl.create_default_context(cafile=self._settings.ca_bundle), timeout=timeout
            )
        return self._own_http

    # --- identity and links ------------------------------------------------------------

    @property
    def system(self) -> CrmSystem:
        return CrmSystem(type="dynamics", label=self._label, base_url=self._settings.org_url)

    def record_url(self, record_type: str, record_id: str) -> str:
        url = (
            f"{self._settings.org_url}/main.aspx?pagetype=entityrecord"
            f"&etn={record_type}&id={record_id}"
        )
        return url + (f"&appid={self._settings.app_id}" if self._settings.app_id else "")

    # --- tokens ----------------------------------------------------------------------------

    async def _mint_token(self) -> tuple[str, float | None, dict[str, str] | None]:
        if self._settings.token_url:
            return await self._mint_with_form_post()
        result = await asyncio.to_thread(self._acquire_with_msal)
        if "access_token" not in result:
            raise CrmAuthError(
                f"Entra ID refused the token request ({result.get('error', 'unknown')})",
                vendor_message=safe_text(str(result.get("error_description", "")), 300),
            )
        return str(result["access_token"]), float(result.get("expires_in") or 3599), None

    def _acquire_with_msal(self) -> dict[str, Any]:
        """Runs in a worker thread: MSAL's discovery and token calls are blocking."""
        import msal

        s = self._settings
        try:
            with self._msal_guard:
                if self._closed:
                    raise CrmUnavailableError("The Dynamics adapter was closed")
                if self._msal_session is None:
                    self._msal_session = _MsalSession(s.ca_bundle or None, self._timeout)
                if self._msal is None:
                    # instance discovery would ask login.microsoftonline.com about the host;
                    # the authority is configuration the admin chose: trusted as given.
                    self._msal = msal.ConfidentialClientApplication(
                        s.client_id,
                        client_credential=self._secret,
                        authority=s.effective_authority,
                        http_client=self._msal_session,
                        instance_discovery=False,
                    )
            # TokenManager decides when a new token is needed; MSAL's cache would hand back
            # the token Dataverse just refused.
            self._msal.remove_tokens_for_client()
            return dict(self._msal.acquire_token_for_client(scopes=[s.effective_scope]))
        except requests.Timeout as exc:
            raise CrmUnavailableError("Entra ID did not answer in time", timed_out=True) from exc
        except requests.RequestException as exc:
            raise CrmUnavailableError(
                f"Entra ID could not be reached ({type(exc).__name__})"
            ) from exc
        except ValueError as exc:  # authority discovery failed: wrong tenant or authority
            raise CrmAuthError("The Entra ID authority could not be used") from exc

    async def _mint_with_form_post(self) -> tuple[str, float | None, dict[str, str] | None]:
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": self._secret,
            "scope": s.effective_scope,
        }
        async with translate_transport_errors("Entra ID"):
            response = await self._http.post(
                str(s.token_url), data=form, headers={"Accept": "application/json"}
            )
        body = _json(response)
        if response.status_code >= 500:
            raise CrmUnavailableError(
                f"Entra ID answered {response.status_code}", vendor_status=response.status_code
            )
        if response.status_code != 200 or "access_token" not in body:
            raise CrmAuthError(
                f"Entra ID refused the token request ({body.get('error', response.status_code)})",
                vendor_status=response.status_code,
                vendor_message=safe_text(str(body.get("error_description", "")), 300),
            )
        return str(body["access_token"]), float(body.get("expires_in") or 3599), None

    # --- HTTP --------------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = (
            path
            if path.startswith(("http://", "https://"))
            else f"{self._settings.effective_api_base}/{path}"
        )
        return f"{url}?{encode_query(params)}" if params else url

    async def _request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        prefer: str = _ANNOTATIONS,
        extra_headers: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """One Web API call (a ``401`` mints a token and retries once); a reply of ``400`` or
        more is raised as its error unless ``check`` is false."""
        self._tokens.warm_up("Dynamics")

        async def send() -> tuple[httpx.Response, str]:
            token = await self._tokens.get()
            headers = {
                "Authorization": f"Bearer {token.value}",
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
                "Prefer": prefer,
                **(extra_headers or {}),
            }
            async with translate_transport_errors(VENDOR):
                response = await self._http.request(
                    method, url, json=json, content=content, headers=headers
                )
            observe_response(QUOTA_HEADERS, response)
            return response, token.value

        response = await retry_once_on_401(send, self._tokens.invalidate)
        if check and response.status_code >= 400:
            raise translate_error(response.status_code, _json(response), response.headers)
        return response

    async def _send(self, operation: BatchOperation, prefer: str = _ANNOTATIONS) -> httpx.Response:
        """One operation as a plain request."""
        return await self._request(
            operation.method,
            operation.url,
            json=operation.body,
            prefer=prefer,
            extra_headers=operation.headers,
        )

    async def _batch(self, operations: Sequence[BatchOperation]) -> list[BatchReply]:
        """The operations in one ``POST $batch``, outside any change set and with ``Prefer:
        odata.continue-on-error``: Dataverse runs each one whatever the others answer. The
        reply is observed for quota once, as every reply is; the parts are not replies of
        their own. The first failing part is raised as its error (a part's 429 with its
        Retry-After, 404, 400 naming the field, 5xx), as the same reply alone would be."""
        content_type, body = build_batch(operations, f"batch_{uuid.uuid4()}")
        response = await self._request(
            "POST",
            self._url("$batch"),
            content=body,
            prefer="odata.continue-on-error",
            extra_headers={"Content-Type": content_type},
            check=False,
        )
        reply_type = response.headers.get("content-type", "")
        if not reply_type.lower().startswith("multipart/"):
            if response.status_code >= 400:  # the batch as a whole refused: throttled, malformed
                raise translate_error(response.status_code, _json(response), response.headers)
            raise CrmUnavailableError(
                f"{VENDOR} answered a batch without its parts", vendor_status=response.status_code
            )
        replies = parse_batch(reply_type, response.content)
        for error in (reply.error for reply in replies):
            if error is not None:
                raise error
        if response.status_code >= 400 or len(replies) != len(operations):
            raise CrmUnavailableError(
                f"{VENDOR} answered {len(replies)} of {len(operations)} batch requests",
                vendor_status=response.status_code,
            )
        return replies

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(await self._request("GET", self._url(path, params)))

    async def _query(
        self, table: Table, filter_: str, limit: int, orderby: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows matching ``filter_``, following ``@odata.nextLink`` until ``limit`` rows."""
        params = {"$filter": filter_}
        if orderby:
            params["$orderby"] = orderby
        page = min(max(limit, 1), self._settings.page_size, 5000)
        prefer = f"{_ANNOTATIONS},odata.maxpagesize={page}"
        body = _json(await self._request("GET", self._url(table.entity_set, params), prefer=prefer))
        rows = list(body.get("value") or [])
        while len(rows) < limit and body.get("@odata.nextLink"):
            body = _json(await self._request("GET", str(body["@odata.nextLink"]), prefer=prefer))
            rows.extend(body.get("value") or [])
        return rows[:limit]


class _MsalSession(requests.Session):
    """The ``requests`` session MSAL uses: a per-request CA bundle (a session-level ``verify``
    loses against ``REQUESTS_CA_BUNDLE`` in the environment) and a timeout (MSAL sets none)."""

    def __init__(self, ca_bundle: str | None, timeout: float) -> None:
        super().__init__()
        self._ca_bundle, self._timeout = ca_bundle, timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_bundle:
            kwargs.setdefault("verify", self._ca_bundle)
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)
