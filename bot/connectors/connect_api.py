"""The Amazon Connect API calls that fill in what a contact event lacks (I/O).

Signed with AWS Signature Version 4 (botocore's signer) with the connector's access key:

* ``GetContactAttributes`` (GET /contact/attributes/{InstanceId}/{InitialContactId}): the
  attributes the contact flow (and the agent's desktop) set, e.g. the caller's number;
* ``DescribeContact`` (GET /contacts/{InstanceId}/{ContactId}): ``CustomerEndpoint``;
* ``DescribeUser`` (GET /users/{InstanceId}/{UserId}): the agent's email and name;
* ``DescribeQueue`` (GET /queues/{InstanceId}/{QueueId}): the queue's name.

Calls are kept few (the API's default quotas are a few requests a second): attributes are
read for an assignment, a data update and the completion only; a user's and a queue's
answer is kept for ten minutes. A platform that does not answer makes the delivery fail with
502, so EventBridge delivers the event again; an unknown user or queue leaves that part out.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import httpx

from .amazon_connect import ContactDetails, ContactEvent
from .errors import PlatformUnavailableError
from .store import ActiveConnector

__all__ = ["ConnectApi", "resource_id"]

log = logging.getLogger(__name__)

_ATTRIBUTES_READ = ("CONNECTED_TO_AGENT", "CONTACT_DATA_UPDATED", "COMPLETED")
_KEPT = ("users", "queues")  # resources whose answers are kept a while
_KEEP_SECONDS = 600.0
_KEEP_AT_MOST = 2048
# (api base, resource, id) -> (until, answer), shared by the connector's calls
_kept: dict[tuple[str, str, str], tuple[float, dict[str, Any] | None]] = {}


def resource_id(arn: str, kind: str) -> str:
    """The id in an ARN such as ``arn:aws:connect:...:instance/<id>/agent/<user id>``."""
    parts = arn.rsplit(":", 1)[-1].split("/")
    return parts[parts.index(kind) + 1] if kind in parts[:-1] else ""


class ConnectApi:
    """One connector's view of the Amazon Connect API."""

    def __init__(self, http: httpx.AsyncClient, connector: ActiveConnector) -> None:
        settings = connector.settings
        self._http = http
        self._region = settings.instance_arn.split(":")[3]
        self._base = (settings.api_base or f"https://connect.{self._region}.amazonaws.com").rstrip(
            "/"
        )
        self._instance = resource_id(settings.instance_arn, "instance")
        key, secret = (
            connector.secret("aws_access_key_id"),
            connector.secret("aws_secret_access_key"),
        )
        self._credentials: Any = None
        if key and secret:
            # botocore (its SigV4 signer) costs a quarter second to import: only here
            from botocore.credentials import Credentials

            self._credentials = Credentials(key, secret, connector.secret("aws_session_token"))

    async def details(self, event: ContactEvent) -> ContactDetails:
        """What the card needs beyond the event: attributes always, and for an assignment
        the caller's address, the queue's name and the agent's identity."""
        if self._credentials is None or event.event_type not in _ATTRIBUTES_READ:
            return ContactDetails()
        found = await self._get("contact/attributes", event.initial_contact_id)
        attributes = {str(k): str(v) for k, v in ((found or {}).get("Attributes") or {}).items()}
        if event.event_type != "CONNECTED_TO_AGENT":
            return ContactDetails(attributes=attributes)
        contact = ((await self._get("contacts", event.contact_id)) or {}).get("Contact") or {}
        endpoint = contact.get("CustomerEndpoint") or {}
        queue_id = resource_id(event.queue_arn, "queue")
        queue = ((await self._get("queues", queue_id)) or {}).get("Queue") or {}
        user_id = resource_id(event.agent_arn, "agent")
        user = ((await self._get("users", user_id)) or {}).get("User") or {}
        identity = user.get("IdentityInfo") or {}
        name = " ".join(p for p in (identity.get("FirstName"), identity.get("LastName")) if p)
        email = identity.get("Email") or (
            user.get("Username") if "@" in str(user.get("Username") or "") else None
        )
        return ContactDetails(
            attributes=attributes,
            customer_address=str(endpoint.get("Address") or ""),
            queue_name=str(queue.get("Name") or ""),
            agent_name=name or str(user.get("Username") or ""),
            agent_email=str(email) if email else None,
        )

    async def _get(self, resource: str, item: str) -> dict[str, Any] | None:
        if not item:
            return None
        key = (self._base, resource, item)
        kept = _kept.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        answer = await self._fetch(resource, item)
        if resource in _KEPT:
            if len(_kept) >= _KEEP_AT_MOST:
                _kept.clear()
            _kept[key] = (time.monotonic() + _KEEP_SECONDS, answer)
        return answer

    async def _fetch(self, resource: str, item: str) -> dict[str, Any] | None:
        url = f"{self._base}/{resource}/{quote(self._instance)}/{quote(item)}"
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=url)
        SigV4Auth(self._credentials, "connect", self._region).add_auth(request)
        try:
            response = await self._http.get(url, headers=dict(request.headers.items()))
        except httpx.HTTPError as exc:
            raise PlatformUnavailableError(
                f"Amazon Connect API unreachable ({type(exc).__name__})"
            ) from None
        if response.status_code == 404:
            log.info("Amazon Connect %s %s: not found", resource, item)
            return None
        if response.status_code != 200:
            raise PlatformUnavailableError(
                f"Amazon Connect API answered {response.status_code} to {resource}"
            )
        body = response.json()
        return body if isinstance(body, dict) else None
