"""Who may act on an interaction's card: the Teams user of an invoke or message, and the
reason the card is read-only for anyone but its assigned agent."""

from __future__ import annotations

from crm.errors import ConflictError

from ..storage.tables import InstallationRow, InteractionRow
from .cardview import CLOSED_STATES

__all__ = ["Actor", "NotAssignedError", "read_only_reason"]


class Actor:
    """Who clicked: the Teams user of an invoke or message."""

    __slots__ = ("teams_user_id", "aad_object_id", "locale")

    def __init__(
        self, teams_user_id: str, aad_object_id: str | None = None, locale: str = "en-US"
    ) -> None:
        self.teams_user_id = teams_user_id
        self.aad_object_id = aad_object_id
        self.locale = locale or "en-US"


class NotAssignedError(ConflictError):
    code = "not_assigned"
    http_status = 403

    def __init__(self, reason: str) -> None:
        super().__init__(f"Card is read-only: {reason}", code=reason)


def read_only_reason(
    row: InteractionRow, installation: InstallationRow | None, actor: Actor
) -> str:
    """ "" when ``actor`` is the interaction's agent and it is open; else why not."""
    if row.state in CLOSED_STATES:
        return "closed"
    if installation is not None and installation.teams_user_id == actor.teams_user_id:
        return ""
    if any(card.get("teamsUserId") == actor.teams_user_id for card in row.previous_cards):
        return "transferred"
    return "not_assigned"
