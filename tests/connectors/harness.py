"""The running service with the demo CRM (a memorialization mapping on it), an installed
agent and helpers to count what reached Teams and the CRM: every platform's end-to-end
test drives its native events through this."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bot.activities import ANNA_AGENT, User
from tests.bot.conftest import ADMIN_KEY, Bot
from tests.e2e.simulated_crms import SimulatedCrm
from tests.e2e.test_crm_flows import _pinned
from tests.memorialization.helpers import api_jobs as _jobs
from tests.memorialization.helpers import api_settled as _settled

__all__ = ["Stack", "fixture", "ADMIN", "CALLER", "NOTES", "ANNA_AGENT"]

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CALLER = "Anna Schmidt"
NOTES = "Rechnung 4711 erklärt, Gutschrift zugesagt."
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    """A platform payload file (each names the documentation it follows in ``source``)."""
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


@dataclass
class Stack:
    bot: Bot
    crm: SimulatedCrm
    configuration_id: str

    async def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = await self.bot.client.request(method, path, json=body, headers=ADMIN)
        text = await response.text()
        return response.status, (json.loads(text) if text else None)

    async def connect(self, platform: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self.admin(
            "PUT",
            f"/api/v1/connectors/{platform}",
            {"configurationId": self.configuration_id, **body},
        )
        assert status in (200, 201), answer
        return answer  # type: ignore[no-any-return]

    def cards_posted(self, user: User) -> int:
        return len(
            [
                c
                for c in self.bot.connector.calls
                if c.method == "POST"
                and c.card
                and c.card.get("msteams")
                and c.conversation_id == user.conversation_id
            ]
        )

    async def memorialized_once(self, interaction_id: str) -> None:
        """Exactly one memorialization job, done, wrote the notes to the pinned contact,
        with one timeline activity."""
        [job] = await _settled(self.bot, interaction_id)
        assert (job["status"], job["lastError"]) == ("done", None), job
        [record] = await _pinned(self.bot, interaction_id)
        raw = await self.crm.stored(record["id"])
        assert raw is not None and self.crm.field_of(raw) == NOTES
        assert len(await self.crm.timeline_for(record["id"])) == 1
        assert len(await _jobs(self.bot, interaction_id)) == 1
