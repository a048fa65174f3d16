"""Global limits on OpenAI calls: concurrency, an images-per-minute budget and pauses.

The images-per-minute window matches the account's limit, so the bot never causes 429s by
itself; a 429 that still arrives (another app sharing the key) pauses everyone for
its ``retry-after``, and a billing problem pauses everyone until an operator acts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["WINDOW", "RateLimiter"]

WINDOW = 60.0
# A spend is stamped a little before its request reaches OpenAI (a few database reads and the
# prompt lie between); counting each spend this much longer keeps clock skew and that gap
# from landing a request just inside the provider's window.
MARGIN = 1.0

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(
        self,
        *,
        concurrency: int,
        images_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.concurrency = concurrency
        self.budget = images_per_minute
        # Injected together so a test can move time forward instead of waiting a minute.
        self._clock = clock
        self._sleep = sleep
        # (when, images) of every request in the last WINDOW seconds.
        self._spent: deque[tuple[float, int]] = deque()
        self._slots = asyncio.Semaphore(concurrency)
        self._taken = 0  # slots held now (asyncio.Semaphore keeps its count private)
        self._budget_lock = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def in_use(self) -> int:
        return self._taken

    def now(self) -> float:
        """The limiter's clock (injected in tests): its pauses and its minute are on it."""
        return self._clock()

    def pause_for(self, seconds: float) -> None:
        """Nobody calls the API for ``seconds`` (a 429's retry-after, a billing problem)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    def used_last_minute(self) -> int:
        """Pictures sent to OpenAI in the last minute (what /status shows against budget)."""
        since = self._clock() - WINDOW
        return sum(count for stamp, count in self._spent if stamp > since)

    def has_room_now(self, images: int) -> bool:
        """Whether :meth:`take` of ``images`` would return at once: no pause, nobody else
        waiting for the budget, and room for them in the last minute's."""
        if self.paused_for() > 0 or self._budget_lock.locked():
            return False
        return self.wait_for_room(images) == 0.0

    def wait_for_room(self, images: int) -> float:
        """Seconds until ``images`` more pictures fit in the window (0: they fit now);
        pauses aside."""
        wanted = min(images, self.budget)
        now = self._clock()
        while self._spent and self._spent[0][0] <= now - WINDOW - MARGIN:
            self._spent.popleft()
        excess = sum(count for _, count in self._spent) + wanted - self.budget
        if excess <= 0:
            return 0.0
        freed = 0
        for stamp, count in self._spent:  # until enough of the oldest leave the window
            freed += count
            if freed >= excess:
                return stamp + WINDOW + MARGIN - now + 0.01
        return WINDOW + MARGIN  # pragma: no cover - the spends always add up to the excess

    def share_window(self, spends: Sequence[tuple[float, int]]) -> None:
        """Count the pictures every process sharing the database sent in the window,
        ``(seconds ago, images)``, instead of this process's own (which they include): what
        other processes spent makes this one wait too."""
        now = self._clock()
        self._spent = deque((now - ago, images) for ago, images in sorted(spends, reverse=True))

    async def acquire_slot(self) -> None:
        await self._slots.acquire()
        self._taken += 1

    def release_slot(self) -> None:
        self._taken -= 1
        self._slots.release()

    async def take(self, images: int) -> None:
        """Wait until ``images`` more pictures fit in the last minute's budget, then spend them.

        A sliding window, not a refilling bucket: a bucket lets a full burst plus the refill
        through within one minute, which an images-per-minute limit answers with 429s.
        """
        wanted = min(images, self.budget)
        async with self._budget_lock:
            while True:
                pause = self.paused_for()
                if pause > 0:
                    await self._sleep(pause)
                    continue
                delay = self.wait_for_room(wanted)
                if delay == 0.0:
                    self._spent.append((self._clock(), wanted))
                    return
                log.info("Images-per-minute budget reached; waiting %.1f s", delay)
                await self._sleep(delay)
