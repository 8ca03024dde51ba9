"""The delivery path of an interaction's card: event -> look-up -> view -> card ->
post/update, top to bottom in :meth:`CardDelivery._deliver`.

``schedule(id)`` marks an interaction dirty; one task per interaction then posts the card
(after the caller look-up) or PUTs it in place until nothing is dirty. Bursts of changes
thus cost one connector call, and updates never overtake each other. Teams counts every
call against the tenant's limit (about 50 per second for a whole contact center), so the
card's calls are few (``window``, the ``card_window_ms`` setting):

* the first card waits up to ``window`` for the related records of a single match, and
  carries them when they come in time (else they follow in a PUT);
* the PUTs of one card are at least ``window`` apart: the changes in between coalesce;
* a PUT whose card is the one this process last sent for the message is not sent (a change
  the card does not show).

A slot (``CONCURRENT_UPDATES``) is held while reading and drawing, not while the call waits
for the connector's rate windows.

The first post belongs to the process that made the card due (``own_post``; the
interaction's ``card_posting_until`` lease tells other replicas and workers): another
process that has a change for a card not yet posted looks again a moment later and then
updates the posted card, so one interaction never gets two cards.

A card action has just drawn the card the stored message should show: it hands that card
over (``PreparedCard``), and it is PUT as it is, unless another change of the interaction
was committed in this process after the action's (:class:`InteractionChanges` counts them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cards.card_json import card_text
from cards.customer_card import build_customer_card, draw_customer_card
from cards.view import Notice
from crm.errors import NotFoundError

from ..notifier import Notifier
from ..storage.tables import InstallationRow, InteractionRecordRow, InteractionRow
from . import store
from .cardview import CardState, Perspective
from .changes import InteractionChanges
from .lookup import CallerLookup
from .views import CardViews, has_universal_actions

__all__ = ["CardDelivery", "PreparedCard", "POST_LEASE_SECONDS"]

log = logging.getLogger(__name__)

# Card updates drawn at once. Beyond the machine's capacity, more at once would only hold
# more database connections while waiting for the event loop (the pool then times out,
# and the events API's requests with it); the rest wait their turn, still coalesced.
CONCURRENT_UPDATES = 16
# Caller look-ups (with their related records) in flight per process. More at once only
# queue inside the CRM client's connection pool, whose bookkeeping grows with its queue
# until the process has no CPU left for anything else; the rest wait their turn in order.
CONCURRENT_LOOKUPS = 32
# How long the process that made a card due may take to post it (caller look-up, connector
# retries) before another process posts it instead; and how often the others look again.
POST_LEASE_SECONDS = 30.0
RECHECK_SECONDS = 0.5
# Cards whose last sent form and time are remembered (the oldest are forgotten).
_REMEMBERED_CARDS = 10_000


@dataclass(frozen=True)
class PreparedCard:
    """The stored message's card as an action just drew it, after change ``change``."""

    card: dict[str, Any]
    reference: dict[str, Any]
    activity_id: str
    change: int


class CardDelivery:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        changes: InteractionChanges,
        lookup: CallerLookup,
        views: CardViews,
        notifier: Notifier,
        window: float = 0.25,
    ) -> None:
        self._window = window
        self._sessions = sessions
        self._read_sessions = read_sessions
        self._changes = changes
        self._lookup = lookup
        self._views = views
        self._notifier = notifier
        self._dirty: set[str] = set()
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._prepared: dict[str, PreparedCard] = {}
        self._own_posts: dict[str, float] = {}  # interaction -> lease end (loop time)
        self._rechecks: set[str] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_UPDATES)
        self._lookups = asyncio.Semaphore(CONCURRENT_LOOKUPS)
        self.lookups_in_flight = 0  # caller look-ups (and related records) not yet answered
        # interaction -> (message id, digest of the card last sent, loop time sent)
        self._sent: OrderedDict[str, tuple[str, bytes, float]] = OrderedDict()
        # event -> card timings for the benchmark and logs: id -> loop time posted
        self.posted_at: dict[str, float] = {}
        self.skipped = 0  # PUTs not sent: the card was the one last sent

    # ------------------------------------------------------------ scheduling

    def own_post(self, interaction_id: str) -> None:
        """This process claimed the interaction's first post (its lease was just committed)."""
        self._own_posts[interaction_id] = asyncio.get_running_loop().time() + POST_LEASE_SECONDS

    def schedule(self, interaction_id: str, prepared: PreparedCard | None = None) -> None:
        """Bring the posted card up to date; with ``prepared``, by PUTting that card when it
        is still the latest (see the module docstring)."""
        if prepared is not None and prepared.change == self._changes.latest(interaction_id):
            self._prepared[interaction_id] = prepared
        else:  # an unknown change: whatever was prepared is out of date
            self._prepared.pop(interaction_id, None)
            self._changes.committed(interaction_id)
        self._dirty.add(interaction_id)
        if interaction_id not in self._workers:
            self._workers[interaction_id] = self.spawn(self._work(interaction_id))

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for every pending card update (shutdown, tests of the service itself)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _work(self, interaction_id: str) -> None:
        try:
            while interaction_id in self._dirty:
                await self._pace(interaction_id)
                self._dirty.discard(interaction_id)
                try:
                    await self._deliver(interaction_id)
                except Exception:  # one bad update must not stop later ones
                    log.exception("Card update for interaction %s failed", interaction_id)
        finally:
            self._workers.pop(interaction_id, None)
            self._changes.forget(interaction_id)
            self._prepared.pop(interaction_id, None)

    async def _pace(self, interaction_id: str) -> None:
        """Wait until ``window`` has passed since this card's last call (changes coalesce)."""
        sent = self._sent.get(interaction_id)
        if sent is not None:
            wait = sent[2] + self._window - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)

    # ------------------------------------------------------------ the path

    async def _deliver(self, interaction_id: str) -> None:
        prepared = self._prepared.pop(interaction_id, None)
        if prepared is not None:  # an action drew the card: PUT as it is
            await self._update(
                interaction_id, prepared.reference, prepared.activity_id, prepared.card
            )
            return
        async with self._slots:
            row, installation, state = await self._load(interaction_id)
        if row is None or installation is None or state is None:
            return
        if row.card_activity_id:
            card, digest = await self._draw(row, installation, state)
            await self._update(
                interaction_id, installation.reference, row.card_activity_id, card, digest
            )
        else:
            if self._posted_elsewhere_soon(row):
                self._recheck(interaction_id)  # update the card once it is there
                return
            await self._post(row, installation, *await self._look_up(row, state))
        await self._finish_previous(row)

    async def _post(
        self,
        row: InteractionRow,
        installation: InstallationRow,
        state: CardState,
        related: asyncio.Task[list[InteractionRecordRow]] | None,
    ) -> None:
        """Post the first card, drawn once the tenant has a slot for it: related records
        that came while it waited for the slot are on it (their PUT is then skipped)."""
        digests: list[bytes] = []

        async def draw() -> dict[str, Any]:
            nonlocal state
            if related is not None and related.done():
                state = _with_related(state, related, row.id, quiet=True)
            card, digest = await self._draw(row, installation, state)
            digests.append(digest)
            return card

        activity_id = await self._notifier.send_card(installation.reference, draw)
        self.posted_at[row.id] = asyncio.get_running_loop().time()
        self._note_sent(row.id, activity_id, digests[-1])
        await self._remember(row.id, installation.id, activity_id)
        self._own_posts.pop(row.id, None)

    async def _draw(
        self, row: InteractionRow, installation: InstallationRow, state: CardState
    ) -> tuple[dict[str, Any], bytes]:
        """The card and its digest (from the text its size was measured by)."""
        notice = self._changes.note_of(row.id)
        universal = has_universal_actions(installation.reference)
        async with self._slots:
            view = await self._views.view(
                state,
                Perspective(
                    locale=installation.locale or row.locale,
                    refresh_user_id=installation.teams_user_id,
                    notices=(notice,) if notice else (),
                    universal_actions=universal,
                ),
            )
            card, text = draw_customer_card(view, universal_actions=universal)
            return card, _digest_text(text)

    async def _update(
        self,
        interaction_id: str,
        reference: dict[str, Any],
        activity_id: str,
        card: dict[str, Any],
        digest: bytes | None = None,
    ) -> None:
        """PUT ``card`` (whose ``_digest`` may be given) unless it is the card this process
        last sent into that message."""
        sent = self._sent.get(interaction_id)
        if digest is None:  # once: it is also what is remembered as sent
            digest = _digest(card)
        if sent is not None and sent[:2] == (activity_id, digest):
            self.skipped += 1
            return
        await self._notifier.update_card(reference, activity_id, card)
        self._note_sent(interaction_id, activity_id, digest)

    def _note_sent(self, interaction_id: str, activity_id: str, digest: bytes) -> None:
        now = asyncio.get_running_loop().time()
        self._sent[interaction_id] = (activity_id, digest, now)
        self._sent.move_to_end(interaction_id)
        if len(self._sent) > _REMEMBERED_CARDS:
            self._sent.popitem(last=False)

    async def _load(
        self, interaction_id: str
    ) -> tuple[InteractionRow | None, InstallationRow | None, CardState | None]:
        """The interaction, its agent's installation and what its card is drawn from, in
        one session (before the first post only the history: the look-up brings the
        records)."""
        async with self._read_sessions() as session:
            try:
                row, installation = await store.interaction_and_installation(
                    session, interaction_id
                )
            except NotFoundError:
                return None, None, None
            if installation is None:
                return row, None, None
            if not row.card_activity_id:
                return row, installation, CardState(row, (), await store.history_of(session, row))
            return row, installation, await self._views.state(session, row)

    def _lookup_done(self) -> None:
        self.lookups_in_flight -= 1
        self._lookups.release()

    async def _look_up(
        self, row: InteractionRow, state: CardState
    ) -> tuple[CardState, asyncio.Task[list[InteractionRecordRow]] | None]:
        """The caller look-up before the first post; then the records it wrote are the
        state to draw (read all again when it had run before; when the related records of a
        single match came within ``window``, the records as their write committed them);
        and the fetch of the related records while it still runs."""
        await self._lookups.acquire()  # released once the CRM has answered both
        self.lookups_in_flight += 1
        fetch = None
        try:
            looked_up = await self._lookup.run(row)
            if looked_up is not None and looked_up.related_of is not None:
                fetch = self.spawn(
                    self._lookup.add_related(row.id, row.configuration_id, looked_up.related_of)
                )
                fetch.add_done_callback(lambda _: self._lookup_done())
        finally:
            if fetch is None:  # no related records to wait for (or the look-up failed)
                self._lookup_done()
        if looked_up is None:
            return await self._fresh_state(row.id), None
        found = CardState(looked_up.state.row, looked_up.state.records, state.history)
        if fetch is None:
            return found, None
        done, _ = await asyncio.wait({fetch}, timeout=self._window)
        if fetch not in done:

            def late(task: asyncio.Task[list[InteractionRecordRow]]) -> None:
                if _added(task, row.id):
                    self.schedule(row.id)  # a PUT, unless the first card has them

            fetch.add_done_callback(late)
            return found, fetch
        return _with_related(found, fetch, row.id), None

    async def _fresh_state(self, interaction_id: str) -> CardState:
        async with self._read_sessions() as session:
            fresh = await store.interaction_or_404(session, interaction_id)
            return await self._views.state(session, fresh)

    async def _remember(self, interaction_id: str, installation_id: int, activity_id: str) -> None:
        # one statement: only if the interaction is still assigned to that installation
        # (not a background write: until it is stored, updates of the card wait for it)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(InteractionRow)
                .where(
                    InteractionRow.id == interaction_id,
                    InteractionRow.installation_id == installation_id,
                )
                .values(
                    card_activity_id=activity_id, card_conversation_id=None, card_posting_until=None
                )
            )

    async def _finish_previous(self, row: InteractionRow) -> None:
        """Turn the cards of agents the interaction was transferred away from read-only."""
        pending = [card for card in row.previous_cards if not card.get("final")]
        if not pending:
            return
        state = await self._fresh_state(row.id)
        for card in pending:
            universal = has_universal_actions(card["reference"])
            view = await self._views.view(
                state,
                Perspective(
                    locale=card["reference"].get("locale") or row.locale,
                    read_only_reason="transferred",
                    notices=(Notice(level="info", key="transferred"),),
                    universal_actions=universal,
                ),
            )
            await self._notifier.update_card(
                card["reference"],
                card["activityId"],
                build_customer_card(view, universal_actions=universal),
            )
        async with self._sessions() as session, session.begin():
            again = await session.get(InteractionRow, row.id)
            if again is not None:
                again.previous_cards = [{**card, "final": True} for card in again.previous_cards]

    # ------------------------------------------------------------ other processes

    def _posted_elsewhere_soon(self, row: InteractionRow) -> bool:
        """Another process holds the lease on posting ``row``'s card."""
        deadline = self._own_posts.get(row.id)
        if deadline is not None:
            if deadline > asyncio.get_running_loop().time():
                return False
            del self._own_posts[row.id]
        until = row.card_posting_until
        if until is None:
            return False
        if until.tzinfo is None:  # SQLite hands back naive UTC timestamps
            until = until.replace(tzinfo=UTC)
        return until > datetime.now(UTC)

    def _recheck(self, interaction_id: str) -> None:
        if interaction_id in self._rechecks:
            return
        self._rechecks.add(interaction_id)

        def again() -> None:
            self._rechecks.discard(interaction_id)
            self.schedule(interaction_id)

        asyncio.get_running_loop().call_later(RECHECK_SECONDS, again)


def _added(
    fetch: asyncio.Task[list[InteractionRecordRow]], interaction_id: str, *, quiet: bool = False
) -> list[InteractionRecordRow]:
    """The records as the finished fetch of related records committed them; empty when it
    added none (a failure is logged, unless ``quiet``: the done callback logs it)."""
    if fetch.cancelled():
        return []
    if (error := fetch.exception()) is not None:
        if not quiet:
            log.error("Related records for %s failed", interaction_id, exc_info=error)
        return []
    return fetch.result()


def _with_related(
    state: CardState,
    fetch: asyncio.Task[list[InteractionRecordRow]],
    interaction_id: str,
    *,
    quiet: bool = False,
) -> CardState:
    """``state`` with the records the finished fetch of related records committed (carried
    from that write, as the look-up's are: not read again); ``state`` when it added none."""
    records = _added(fetch, interaction_id, quiet=quiet)
    if not records:
        return state
    return CardState(state.row, records, state.history, state.memorialization_failed)


def _digest(card: dict[str, Any]) -> bytes:
    return _digest_text(card_text(card))


def _digest_text(text: str) -> bytes:
    """The digest of a card's ``card_text`` (ASCII)."""
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).digest()
