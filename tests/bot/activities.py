"""Real activity JSON as Teams sends it, for posting to /api/messages."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

_ids = itertools.count(1)
TENANT = "72f988bf-0000-4000-8000-000000000001"
BOT_ID = "28:bot-app-id"


@dataclass(frozen=True)
class User:
    teams_id: str
    aad: str
    name: str
    email: str

    @property
    def conversation_id(self) -> str:
        return f"a:personal-{self.teams_id.split(':')[-1]}"

    def member(self) -> dict[str, Any]:
        return {
            "id": self.teams_id,
            "name": self.name,
            "aadObjectId": self.aad,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": TENANT,
        }


ANNA_AGENT = User("29:agent-1", "aad-agent-1", "Alex Agent", "alex.agent@contoso.example")
BOB_AGENT = User("29:agent-2", "aad-agent-2", "Bea Berater", "bea.berater@contoso.example")
OTHER = User("29:other", "aad-other", "Olli Other", "olli@contoso.example")


def activity(
    service_url: str, user: User, type_: str, *, locale: str = "en-US", **extra: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": type_,
        "id": f"act-in-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2025-01-01T10:00:00.000Z",
        "locale": locale,
        "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad},
        "recipient": {"id": BOT_ID, "name": "Customer Card"},
        "conversation": {
            "id": user.conversation_id,
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
    }
    base.update(extra)
    return base


def install(service_url: str, user: User, **kw: Any) -> dict[str, Any]:
    return activity(service_url, user, "installationUpdate", action="add", **kw)


def uninstall(service_url: str, user: User, **kw: Any) -> dict[str, Any]:
    return activity(service_url, user, "installationUpdate", action="remove", **kw)


def message(service_url: str, user: User, text: str, **kw: Any) -> dict[str, Any]:
    return activity(service_url, user, "message", text=text, **kw)


def card_action(
    service_url: str, user: User, verb: str, data: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    return activity(
        service_url,
        user,
        "invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": {**data, "verb": verb}},
            "trigger": "manual",
        },
        **kw,
    )


def task(
    service_url: str, user: User, name: str, data: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    return activity(
        service_url,
        user,
        "invoke",
        name=name,
        value={"data": data, "context": {"theme": "default"}},
        **kw,
    )


def compose_query(service_url: str, user: User, text: str, **kw: Any) -> dict[str, Any]:
    return activity(
        service_url,
        user,
        "invoke",
        name="composeExtension/query",
        value={
            "commandId": "searchRecords",
            "parameters": [{"name": "searchText", "value": text}],
            "queryOptions": {"skip": 0, "count": 25},
        },
        **kw,
    )
