"""Favorites by emoji reaction, recorded in the order Discord sent them, through storage faults.

A reaction that meets storage failing (the database locked past its busy timeout, a full or
read-only disk, PostgreSQL restarting) is held in memory and recorded once storage works
again, instead of being lost while the member still sees their reaction on the message.

Order: one line for every reaction, not one per member and message. A storage fault is the
whole database failing, so a later reaction on another message would fail as well: letting it
overtake saves nothing, and one line keeps "an add then a remove ends un-favorited" true
without a map of lines to bound and clean up. While anything is held, a new reaction waits
behind it (held too) rather than being tried first.

Bound: at most HELD_LIMIT reactions are held; past that a new one is lost (one warning per
incident), as every reaction was before. Held reactions live as long as the process: at
close, what is still held is one warning with its count (lost, as after a crash).
Bugs (anything but a storage fault) are logged with their traceback and never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from bot.faults import log_failure, log_task_failure, storage_unavailable
from bot.ops.metrics import Metrics
from bot.pictures import Reaction

__all__ = ["HELD_LIMIT", "ReactionFavorites"]

log = logging.getLogger(__name__)

# A held reaction is a few hundred bytes: ten thousand is a few megabytes, and far more than
# a server reacts during an outage an admin notices (the job queue alerts them).
HELD_LIMIT = 10_000


class Reacting(Protocol):
    """What records a reaction (bot.pictures.PictureService): the ids of pictures changed."""

    async def react(self, reaction: Reaction) -> list[int]: ...


class ReactionFavorites:
    def __init__(
        self,
        pictures: Reacting,
        retry_every: Callable[[], float],
        metrics: Metrics,
        *,
        limit: int = HELD_LIMIT,
    ) -> None:
        self._pictures = pictures
        self._shown = metrics.reactions_held  # what operators see held
        self._retry_every = retry_every  # seconds between tries while reactions are held
        self._limit = limit
        # One lock for applying and retrying: its waiters are served first come, first served,
        # so reactions are tried (or held) in the order they arrived.
        self._lock = asyncio.Lock()
        self._held: deque[Reaction] = deque()
        self._lost = 0  # reactions past the limit in this incident
        self._retrying: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def held(self) -> int:
        """How many reactions wait for storage to work again."""
        return len(self._held)

    async def record(self, reaction: Reaction) -> None:
        """Record ``reaction`` now, or hold it until storage works again.

        Its first await is the lock: a caller that records events as they are dispatched
        keeps their order.
        """
        async with self._lock:
            if self._held:
                self._hold(reaction)  # never overtake what storage refused before
                return
            if await self._apply(reaction):
                return
            self._hold(reaction)
            if not self._closed:
                self._retrying = asyncio.create_task(
                    self._retry_until_recorded(), name="favorite-reactions-retry"
                )
                self._retrying.add_done_callback(log_task_failure)

    async def retry_held(self) -> bool:
        """Record held reactions, oldest first, until storage fails again (they stay held from
        there on). True when none is left."""
        async with self._lock:
            recorded = 0
            while self._held:
                if not await self._apply(self._held[0], first_fault=False):
                    return False
                self._held.popleft()  # applied (or a bug, logged): never tried again
                self._shown.set(len(self._held))
                recorded += 1
            if recorded or self._lost:
                log.warning(
                    "Storage works again: recorded %d held favorite reactions"
                    " (%d lost past the limit of %d)",
                    recorded,
                    self._lost,
                    self._limit,
                )
            self._lost = 0
            return True

    @contextlib.asynccontextmanager
    async def erasing(self, guild_id: int, user_id: int) -> AsyncIterator[None]:
        """While a member's data in a guild is erased: their held reactions there are dropped
        and no reaction is recorded until the erasure is over, so a ⭐ held from before it
        never brings a favorite back (/mydata delete)."""
        async with self._lock:
            kept = deque(r for r in self._held if (r.guild_id, r.user_id) != (guild_id, user_id))
            dropped = len(self._held) - len(kept)
            if dropped:
                self._held = kept
                self._shown.set(len(kept))
                log.info(
                    "Dropped %d held favorite reaction(s) of member %s, whose data is erased",
                    dropped,
                    user_id,
                )
            yield

    async def close(self) -> None:
        """Stop retrying; what is still held is lost, and logged once with its count."""
        self._closed = True
        # Taken first: a write under way ends, so the count says exactly what is lost.
        async with self._lock:
            task, self._retrying = self._retrying, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self._held:
                log.warning(
                    "Shutting down with %d favorite reactions held by a storage fault:"
                    " they are lost",
                    len(self._held),
                )

    async def _retry_until_recorded(self) -> None:
        while True:
            await asyncio.sleep(self._retry_every())
            if await self.retry_held():
                return

    async def _apply(self, reaction: Reaction, *, first_fault: bool = True) -> bool:
        """Try ``reaction``; False when storage failed (hold it), True when it is done with:
        recorded, or a bug logged with its traceback (retrying a bug would only repeat it)."""
        try:
            changed = await self._pictures.react(reaction)
        except Exception as exc:
            if storage_unavailable(exc) is None:
                log_failure(
                    log,
                    exc,
                    "Could not record a favorite reaction (guild %s, message %s)",
                    reaction.guild_id,
                    reaction.message_id,
                )
                return True
            if first_fault:
                log_failure(
                    log,
                    exc,
                    "Favorite reaction held until storage works again (guild %s, message %s)",
                    reaction.guild_id,
                    reaction.message_id,
                )
            return False
        if changed:
            log.info(
                "Favorite %s by %s on pictures %s",
                "added" if reaction.added else "removed",
                reaction.user_id,
                changed,
            )
        return True

    def _hold(self, reaction: Reaction) -> None:
        if len(self._held) < self._limit:
            self._held.append(reaction)
            self._shown.set(len(self._held))
            return
        if not self._lost:
            log.warning(
                "%d favorite reactions are held while storage fails: further ones are lost"
                " until it works again",
                self._limit,
            )
        self._lost += 1
