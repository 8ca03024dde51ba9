"""The connectors' one way in: translated platform events, stored once, handed to the
interaction service in their order.

Each platform event is stored under its platform event id (a unique key: a retried
delivery is a duplicate and changes nothing). Then the interaction's pending events are
planned (:mod:`.ordering`) and applied through :class:`InteractionService` with the event
id ``<platform>:<platform event id>``, so the interaction service's own de-duplication
holds as well (two replicas applying the same event store it once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm.errors import ConflictError

from ..interactions.events import InteractionEvent
from ..interactions.service import InteractionService
from ..storage.connector_tables import ConnectorEventRow
from ..storage.tables import InteractionRow
from .agents import mapped_agent
from .models import PlatformEvent
from .ordering import STAGES, Progress, Queued, plan
from .store import ActiveConnector

__all__ = ["ConnectorInbox", "Received"]

log = logging.getLogger(__name__)


@dataclass
class Received:
    """What became of a delivery: events new, repeated, applied, waiting, stale."""

    new: int = 0
    duplicates: int = 0
    applied: list[str] = field(default_factory=list)  # interaction event types
    waiting: int = 0
    stale: int = 0
    agent_not_installed: bool = False

    def wire(self) -> dict[str, object]:
        return {
            "accepted": self.new,
            "duplicates": self.duplicates,
            "applied": self.applied,
            "waiting": self.waiting,
            "stale": self.stale,
            "agentNotInstalled": self.agent_not_installed,
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ConnectorInbox:
    """Stores platform events once and releases them to the interaction service in order."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interactions: InteractionService,
        *,
        lookup_wait: float = 20.0,
    ) -> None:
        self._sessions = sessions
        self._interactions = interactions
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # an end waits this long for the card's look-up, then goes ahead (the CRM is down,
        # the agent has not installed the app)
        self._lookup_wait = lookup_wait
        self._later: dict[str, asyncio.Task[None]] = {}

    async def aclose(self) -> None:
        """Stop waiting for look-ups (their events stay pending; the next delivery of the
        interaction applies them)."""
        for task in list(self._later.values()):
            task.cancel()
        await asyncio.gather(*self._later.values(), return_exceptions=True)
        self._later.clear()

    async def deliver(
        self,
        connector: ActiveConnector,
        events: Sequence[PlatformEvent],
        *,
        configuration_id: str | None = None,
    ) -> Received:
        """:meth:`receive` with the connector's agent table and configuration (or
        ``configuration_id``, when the platform's call names one)."""
        return await self.receive(
            connector.platform,
            events,
            agents=connector.agents,
            configuration_id=configuration_id or connector.configuration_id,
        )

    async def receive(
        self,
        platform: str,
        events: Sequence[PlatformEvent],
        *,
        agents: dict[str, str] | None = None,
        configuration_id: str | None = None,
    ) -> Received:
        """Store ``events`` (agents mapped through the admin's table, the connector's
        configuration set) and apply whatever may now be applied."""
        received = Received()
        for item in events:
            event = item.event
            if event.agent is not None:
                event = event.model_copy(update={"agent": mapped_agent(event.agent, agents or {})})
            if configuration_id and not event.configuration_id:
                event = event.model_copy(update={"configuration_id": configuration_id})
            if await self._store(platform, item.platform_event_id, event):
                received.new += 1
            else:
                received.duplicates += 1
        for interaction_id in dict.fromkeys(item.event.interaction_id for item in events):
            await self._release(platform, interaction_id, received)
        return received

    async def open_interactions(
        self, platform: str, within: timedelta = timedelta(days=1)
    ) -> list[str]:
        """Interactions of ``platform`` seen within ``within`` whose after-call work is not
        complete: what a subscriber reads again after a reconnect."""
        since = datetime.now(UTC) - within
        async with self._sessions() as session:
            seen = (
                await session.execute(
                    select(ConnectorEventRow.interaction_id)
                    .where(
                        ConnectorEventRow.platform == platform,
                        ConnectorEventRow.received_at >= since,
                    )
                    .distinct()
                )
            ).scalars()
            ids = list(seen)
            done = (
                await session.execute(
                    select(InteractionRow.id).where(
                        InteractionRow.id.in_(ids), InteractionRow.state == "acw_completed"
                    )
                )
            ).scalars()
            closed = set(done)
        return [interaction_id for interaction_id in ids if interaction_id not in closed]

    async def _store(self, platform: str, platform_event_id: str, event: InteractionEvent) -> bool:
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    ConnectorEventRow(
                        platform=platform,
                        platform_event_id=platform_event_id,
                        interaction_id=event.interaction_id,
                        stage=STAGES[event.type],
                        event=event.model_dump(mode="json", by_alias=True, exclude_none=True),
                        state="pending",
                        occurred_at=event.occurred_at or datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def _release(
        self, platform: str, interaction_id: str, received: Received, *, force: bool = False
    ) -> None:
        # one release per interaction at a time in this process (the lock is dropped when
        # nobody holds or awaits it); other processes are kept apart by the event ids
        lock, users = self._locks.get(interaction_id, (asyncio.Lock(), 0))
        self._locks[interaction_id] = (lock, users + 1)
        try:
            async with lock:
                await self._apply_pending(platform, interaction_id, received, force=force)
        finally:
            lock, users = self._locks[interaction_id]
            if users == 1:
                del self._locks[interaction_id]
            else:
                self._locks[interaction_id] = (lock, users - 1)

    async def _apply_pending(
        self, platform: str, interaction_id: str, received: Received, *, force: bool
    ) -> None:
        async with self._sessions() as session:
            rows = list(
                (
                    await session.execute(
                        select(ConnectorEventRow)
                        .where(ConnectorEventRow.interaction_id == interaction_id)
                        .order_by(ConnectorEventRow.id)
                    )
                ).scalars()
            )
            interaction = await session.get(InteractionRow, interaction_id)
        legs: dict[str, datetime] = {}
        for row in rows:
            leg = str(row.event.get("contactId") or "")
            at = _utc(row.occurred_at)
            if leg and (leg not in legs or at < legs[leg]):
                legs[leg] = at
        pending = {row.id: row for row in rows if row.state == "pending"}
        progress = (
            Progress(interaction.state, interaction.agent_id, interaction.contact_id)
            if interaction is not None
            else None
        )
        queued = [
            Queued(
                row.id,
                str(row.event["type"]),
                str(row.event.get("contactId") or ""),
                (row.event.get("agent") or {}).get("id"),
                _utc(row.occurred_at),
            )
            for row in pending.values()
        ]
        searched = force or (interaction is not None and interaction.match_outcome != "unsearched")
        steps = plan(progress, queued, legs, searched=searched)
        for step in steps:
            row = pending[step.row_id]
            if step.action == "apply":
                await self._apply(platform, row, step.type, received)
            else:
                received.stale += 1
            await self._mark(row.id, "applied" if step.action == "apply" else "stale")
        waiting = len(pending) - len(steps)
        received.waiting += waiting
        started = interaction is not None or any(s.type == "started" for s in steps)
        if waiting and started and not searched and interaction_id not in self._later:
            self._later[interaction_id] = asyncio.create_task(
                self._after_lookup(platform, interaction_id)
            )

    async def _after_lookup(self, platform: str, interaction_id: str) -> None:
        """Release the interaction's waiting end once its look-up is done (or given up)."""
        try:
            deadline = asyncio.get_running_loop().time() + self._lookup_wait
            while asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
                async with self._sessions() as session:
                    row = await session.get(InteractionRow, interaction_id)
                if row is not None and row.match_outcome != "unsearched":
                    break
            del self._later[interaction_id]
            await self._release(platform, interaction_id, Received(), force=True)
        except Exception:  # the events stay pending: the next delivery applies them
            self._later.pop(interaction_id, None)
            log.exception(
                "Connector %s: waiting events of %s not applied", platform, interaction_id
            )

    async def _apply(
        self, platform: str, row: ConnectorEventRow, type_: str, received: Received
    ) -> None:
        event = InteractionEvent.model_validate(
            {**row.event, "type": type_, "eventId": f"{platform}:{row.platform_event_id}"}
        )
        try:
            await self._interactions.handle_event(event)
        except ConflictError as exc:
            if exc.code != "agent_not_installed":
                raise
            received.agent_not_installed = True  # stored: the card follows the install
        received.applied.append(type_)
        log.info("Connector %s: %s of %s applied", platform, type_, event.interaction_id)

    async def _mark(self, row_id: int, state: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ConnectorEventRow).where(ConnectorEventRow.id == row_id).values(state=state)
            )
