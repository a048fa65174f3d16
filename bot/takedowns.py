"""Taking deleted pictures' messages down from Discord, even across a stop or a crash.

A member's deletion queues the messages that showed the pictures in its own transaction
(``bot/storage/takedowns.py``), then wakes this service, which deletes them one by one
through the Discord layer's :class:`MessageRemover`. A message Discord or the network failed
to delete is tried again later, waiting longer each time; one already gone is forgotten, and
so is one the bot may no longer touch (its channel hidden from it): nobody else can act on
that one either. Whatever is still queued when the bot stops is taken down at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot.faults import log_failure
from bot.ops.background import BackgroundTask
from bot.ops.metrics import Metrics
from bot.storage import Storage
from bot.storage.takedowns import Takedown

__all__ = ["MessageRemover", "MessageTakedowns", "TakedownOutcome", "retry_delay"]

log = logging.getLogger(__name__)

# A failed try waits 5 s, then twice as long each time, at most an hour; after 30 failed
# tries (about twenty hours in all: a long Discord outage) the message is given up on, with a
# warning.
RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
MAX_ATTEMPTS = 30
# Messages taken down per pass; the next pass starts at once while more are due.
BATCH = 50
# Looked at again this often even unwoken (rows another process sharing PostgreSQL queued),
# and sooner after a pass that storage failing, or another process taking down, cut short.
IDLE_SECONDS = 60.0
CUT_SHORT_SECONDS = 5.0


class TakedownOutcome(enum.Enum):
    GONE = "gone"  # deleted now, or already gone (or its channel is)
    REFUSED = "refused"  # the bot may not delete it (lost access): nothing more to try
    FAILED = "failed"  # Discord or the network failed: try again later


class MessageRemover(Protocol):
    """Deletes one of the bot's messages (the Discord layer's side)."""

    async def remove(self, channel_id: int, message_id: int) -> TakedownOutcome: ...


def retry_delay(attempts: int) -> float:
    """How long a message waits after its ``attempts``-th failed try."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)


class MessageTakedowns:
    def __init__(
        self, storage: Storage, metrics: Metrics, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._storage = storage
        self._counted = metrics.takedowns
        self._clock = clock
        self.remover: MessageRemover | None = None  # the Discord layer's, given at start
        self._woken = asyncio.Event()
        self._running = BackgroundTask("message-takedowns", self._run)

    def start(self) -> None:
        self._running.start()

    async def stop(self) -> None:
        await self._running.stop()

    def wake(self) -> None:
        """A deletion queued messages: take them down now rather than at the next look."""
        self._woken.set()

    async def take_down_batch(self) -> None:
        """Try up to BATCH queued messages that are due, the longest waiting first.

        One batch at a time, so a process holds the takedowns' lock (and, on PostgreSQL, a
        pooled connection) only that long; the loop starts the next batch at once.
        """
        remover = self.remover
        assert remover is not None, "the Discord layer gives its remover before start"
        gone = given_up = 0
        for takedown in await self._storage.takedowns.due(self._clock(), BATCH):
            outcome = await self._try(remover, takedown)
            if outcome is TakedownOutcome.FAILED and takedown.attempts + 1 < MAX_ATTEMPTS:
                failed = takedown.attempts + 1
                await self._storage.takedowns.retry_at(
                    takedown.message_id, self._clock() + retry_delay(failed)
                )
                self._counted.labels("retry").inc()
                continue
            await self._storage.takedowns.done(takedown.message_id)
            if outcome is TakedownOutcome.GONE:
                gone += 1
                self._counted.labels("gone").inc()
                continue
            given_up += 1
            # No access is the server's choice; failing for hours is worth a look.
            refused = outcome is TakedownOutcome.REFUSED
            self._counted.labels("no_access" if refused else "kept_failing").inc()
            log.log(
                logging.INFO if refused else logging.WARNING,
                "Gave up deleting message %s in channel %s (%s)",
                takedown.message_id,
                takedown.channel_id,
                "no access" if refused else "kept failing",
            )
        if gone or given_up:
            log.info("Took down %d picture messages (%d given up)", gone, given_up)

    async def _try(self, remover: MessageRemover, takedown: Takedown) -> TakedownOutcome:
        try:
            return await remover.remove(takedown.channel_id, takedown.message_id)
        except Exception as exc:  # a bug: counted as a failed try, so it cannot spin
            log_failure(log, exc, "Deleting message %s failed", takedown.message_id)
            return TakedownOutcome.FAILED

    async def _run(self) -> None:
        failures = 0  # passes in a row that failed
        while True:
            self._woken.clear()  # a wake during the batch below brings another one
            wait = IDLE_SECONDS
            try:
                # Several processes may share the database: one takes down at a time.
                async with self._storage.db.exclusive("message-takedowns") as mine:
                    if mine:
                        await self.take_down_batch()
                    else:
                        wait = CUT_SHORT_SECONDS
                next_due = await self._storage.takedowns.next_due()
                if next_due is not None:
                    wait = min(wait, max(next_due - self._clock(), 0.0))
            except Exception as exc:
                # Storage failing is one warning (a bug: its traceback) for the whole run of
                # failed passes, which come further apart, not one every few seconds.
                if not failures:
                    log_failure(log, exc, "Taking down deleted pictures' messages failed")
                failures += 1
                wait = min(CUT_SHORT_SECONDS * 2 ** (failures - 1), IDLE_SECONDS)
            else:
                if failures:
                    log.info("Taking down deleted pictures' messages works again")
                failures = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)
