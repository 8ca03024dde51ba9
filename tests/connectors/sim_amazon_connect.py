"""A local stand-in of the Amazon Connect API (the four calls the connector makes), which
checks each request's AWS Signature Version 4 as AWS does and answers the documented shapes
(fixture ``amazon_connect_events.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "eu-central-1"


def signature_ok(request: web.Request) -> bool:
    """Recompute the request's SigV4 signature from what it says it signed."""
    header = request.headers.get("Authorization", "")
    amz_date = request.headers.get("X-Amz-Date", "")
    if not header.startswith("AWS4-HMAC-SHA256 ") or not amz_date:
        return False
    parts = dict(p.strip().split("=", 1) for p in header[len("AWS4-HMAC-SHA256 ") :].split(","))
    if not parts.get("Credential", "").startswith(f"{ACCESS_KEY}/{amz_date[:8]}/{REGION}/connect/"):
        return False
    signed = parts.get("SignedHeaders", "").split(";")
    copy = AWSRequest(
        method=request.method,
        url=str(request.url),
        headers={name: request.headers[name] for name in signed if name in request.headers},
    )
    copy.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "connect", REGION)
    expected = auth.signature(auth.string_to_sign(copy, auth.canonical_request(copy)), copy)
    return bool(parts.get("Signature") == expected)


@dataclass
class ConnectApiSim:
    api: dict[str, Any]
    calls: list[str] = field(default_factory=list)
    refused: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/contact/attributes/{instance}/{contact}", self._answer("attributes"))
        app.router.add_get("/contacts/{instance}/{contact}", self._answer("contact"))
        app.router.add_get("/users/{instance}/{user}", self._answer("user"))
        app.router.add_get("/queues/{instance}/{queue}", self._answer("queue"))
        return app

    def _answer(self, name: str):  # type: ignore[no-untyped-def]
        async def handle(request: web.Request) -> web.Response:
            if not signature_ok(request):
                self.refused += 1
                return web.json_response(
                    {"message": "The request signature we calculated does not match"}, status=403
                )
            self.calls.append(name)
            # a user of its own when the test has one (``users``: user id -> body)
            user = self.api.get("users", {}).get(request.match_info.get("user", ""))
            return web.json_response(user if name == "user" and user else self.api[name])

        return handle
