"""Pure: an interaction event applied to the interaction's row, and the row (with its
records) as the events API's state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from crm.phone import digits_only, e164_number

from ..storage.tables import InteractionRecordRow, InteractionRow
from .events import InteractionEvent, InteractionStateOut, RecordOut

__all__ = ["new_interaction", "apply_event", "claim_post", "state_out"]


def new_interaction(event: InteractionEvent, config_id: str) -> InteractionRow:
    return InteractionRow(
        id=event.interaction_id,
        configuration_id=config_id,
        contact_id=event.contact_id,
        master_contact_id=event.master_contact_id,
        channel=event.channel,
        state="started",
        data={},
        script_variables={},
        previous_cards=[],
        match_outcome="unsearched",
        search_query="",
        related_shown=0,
        delivery_pending=False,
        started_at=event.occurred_at or datetime.now(UTC),
    )


def apply_event(row: InteractionRow, event: InteractionEvent, at: datetime, region: str) -> None:
    row.data = {**(row.data or {}), **event.data}
    row.script_variables = {
        **(row.script_variables or {}),
        **{k.lower(): v for k, v in event.script_variables.items()},
    }
    if event.contact_id:
        row.contact_id = event.contact_id
    if event.master_contact_id:
        row.master_contact_id = event.master_contact_id
    row.skill = str(row.data.get("Skill Name") or row.skill or "")
    customer = _customer_address(row.channel, row.data)
    if customer and customer != row.customer:
        row.customer = customer
        row.customer_key = _customer_key(row.channel, customer, region)
    # an update after the end keeps the end state
    if event.type != "updated" or row.state in ("started", "updated", "transferred"):
        row.state = event.type
    if event.type == "ended":
        row.ended_by = event.ended_by
        row.ended_at = at


def claim_post(row: InteractionRow, lease_seconds: float) -> bool:
    """When the interaction's card is due (assigned to an installed agent, not posted),
    this process posts it: the lease keeps other processes from posting it too."""
    if row.installation_id is None or row.card_activity_id:
        return False
    row.card_posting_until = datetime.now(UTC) + timedelta(seconds=lease_seconds)
    return True


def state_out(row: InteractionRow, records: Sequence[InteractionRecordRow]) -> InteractionStateOut:
    card = (
        "waiting_for_install"
        if row.delivery_pending
        else "posted"
        if row.card_activity_id
        else "pending"
    )
    outs: dict[str, list[RecordOut]] = {"current": [], "related": []}
    for record in records:
        outs[record.section].append(
            RecordOut(
                type=record.record_type,
                id=record.record_id,
                title=record.title,
                url=record.url,
                origin=record.origin,
                fields=dict((record.fields or {}).get("fields", {})),
            )
        )
    return InteractionStateOut(
        interaction_id=row.id,
        state=row.state,
        channel=row.channel,
        configuration_id=row.configuration_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        card=card,
        match_outcome=row.match_outcome,
        current=outs["current"],
        related=outs["related"],
    )


def _customer_address(channel: str, data: dict[str, Any]) -> str:
    keys = ("ANI",) if channel == "voice" else ("From", "Email", "Customer Email")
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _customer_key(channel: str, address: str, region: str) -> str:
    if channel == "voice":
        # phone_variants' first form: E.164, else the digits (without formatting the rest)
        return e164_number(address, region) or digits_only(address)
    return address.lower()
