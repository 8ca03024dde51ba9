"""Storing and removing an agent's installation (their personal chat with the bot)."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext
from microsoft_agents.hosting.core.connector import ConnectorClientBase
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..interactions import store
from ..storage.tables import InstallationRow

__all__ = ["is_personal", "tenant_of", "identity_of", "save_installation", "remove_installation"]

log = logging.getLogger(__name__)


def is_personal(activity: Activity) -> bool:
    conversation_type = activity.conversation.conversation_type if activity.conversation else None
    return conversation_type in (None, "", "personal")


def tenant_of(activity: Activity) -> str | None:
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    return tenant.get("id") if isinstance(tenant, dict) else None


async def _member(context: TurnContext) -> dict[str, Any]:
    """The user's profile from the connector's member API (email, UPN); {} when unavailable
    (the Emulator has no member API)."""
    activity = context.activity
    connector = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
    if connector is None or activity.conversation is None or activity.from_property is None:
        return {}
    try:
        member = await connector.conversations.get_conversation_member(
            activity.conversation.id, activity.from_property.id
        )
    except (aiohttp.ClientError, ValueError, TimeoutError) as exc:
        log.info("Member API unavailable: %s", type(exc).__name__)
        return {}
    data = member.model_dump(by_alias=True, exclude_none=True)
    return {**(member.model_extra or {}), **data}


async def identity_of(context: TurnContext, *, with_member_api: bool = True) -> dict[str, str]:
    """Teams user id, AAD object id, tenant, name and email/UPN of the activity's sender."""
    activity = context.activity
    user = activity.from_property
    member = await _member(context) if with_member_api else {}
    email = member.get("email") or member.get("userPrincipalName") or ""
    return {
        "teams_user_id": user.id if user else "",
        "aad_object_id": (user.aad_object_id if user else None) or member.get("aadObjectId") or "",
        "tenant_id": tenant_of(activity) or member.get("tenantId") or "",
        "name": (user.name if user else None) or member.get("name") or "",
        "email": str(email).lower(),
        "upn": str(member.get("userPrincipalName") or "").lower(),
    }


async def save_installation(
    sessions: async_sessionmaker[AsyncSession], context: TurnContext, identity: dict[str, str]
) -> tuple[InstallationRow, bool]:
    """Insert or refresh the sender's installation with the conversation reference; and
    whether this made it (a new install: the one welcome). Teams and the Playground send
    installationUpdate and conversationUpdate together, maybe to two replicas: the unique
    user id decides which one inserts, the other refreshes."""
    for _ in range(2):
        try:
            return await _upsert_installation(sessions, context, identity)
        except IntegrityError:
            continue  # the other activity inserted first: refresh its row
    return await _upsert_installation(sessions, context, identity)


async def _upsert_installation(
    sessions: async_sessionmaker[AsyncSession], context: TurnContext, identity: dict[str, str]
) -> tuple[InstallationRow, bool]:
    activity = context.activity
    reference = activity.get_conversation_reference().model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )
    reference.pop("activityId", None)
    async with sessions() as session, session.begin():
        row = await store.installation_by_user(session, identity["teams_user_id"])
        created = row is None
        if row is None:
            row = InstallationRow(teams_user_id=identity["teams_user_id"])
            session.add(row)
        row.aad_object_id = identity["aad_object_id"] or row.aad_object_id
        row.email = identity["email"] or row.email
        row.upn = identity["upn"] or row.upn
        row.name = identity["name"] or row.name or ""
        row.tenant_id = identity["tenant_id"] or row.tenant_id
        row.conversation_id = activity.conversation.id
        row.service_url = activity.service_url or ""
        row.reference = reference
        row.locale = activity.locale or row.locale or "en-US"
    return row, created


async def remove_installation(
    sessions: async_sessionmaker[AsyncSession], teams_user_id: str
) -> bool:
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(InstallationRow).where(InstallationRow.teams_user_id == teams_user_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
