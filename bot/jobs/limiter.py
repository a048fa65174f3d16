"""Global limits on OpenAI calls: concurrency, an images-per-minute budget and pauses.

The token bucket matches the account's images-per-minute limit, so the bot never causes
429s by itself; a 429 that still arrives (another app sharing the key) pauses everyone for
its ``retry-after``, and a billing problem pauses everyone until an operator acts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self,
        *,
        concurrency: int,
        images_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self.capacity = float(images_per_minute)
        self._rate = images_per_minute / 60.0
        self._tokens = float(images_per_minute)
        self._clock = clock
        self._updated = clock()
        self._slots = asyncio.Semaphore(concurrency)
        self._bucket_lock = asyncio.Lock()
        self._paused_until = 0.0

    @property
    def in_use(self) -> int:
        return self.concurrency - self._slots._value

    def pause_for(self, seconds: float) -> None:
        """Nobody calls the API for ``seconds`` (a 429's retry-after)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._clock())

    async def acquire_slot(self) -> None:
        await self._slots.acquire()

    def release_slot(self) -> None:
        self._slots.release()

    async def take(self, images: int) -> None:
        """Wait until ``images`` pictures may be requested without exceeding the budget."""
        wanted = min(float(images), self.capacity)
        async with self._bucket_lock:
            while True:
                pause = self.paused_for()
                if pause > 0:
                    await asyncio.sleep(pause)
                    continue
                self._refill()
                if self._tokens >= wanted:
                    self._tokens -= wanted
                    return
                await asyncio.sleep((wanted - self._tokens) / self._rate)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
