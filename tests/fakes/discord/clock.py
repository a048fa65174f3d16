"""Controllable clock and snowflake generation for the fake Discord."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

DISCORD_EPOCH_MS = 1_420_070_400_000


class FakeClock:
    """Wall clock that follows real time but can be pushed forward.

    ``now()`` is ``time.time()`` plus everything passed to ``advance()``. Interaction token
    lifetimes, signed CDN URL expiry and message timestamps use this clock; the 3 s
    acknowledgement deadline deliberately uses the real event-loop clock instead.
    """

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> float:
        return time.time() + self._offset

    def datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("FakeClock only moves forward")
        self._offset += seconds
        for listener in list(self._listeners):
            listener()

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)


def iso(timestamp: float) -> str:
    """ISO-8601 timestamp the way Discord formats them."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat()


class SnowflakeFactory:
    """Monotonic Discord snowflakes whose embedded time follows the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._last = 0

    def __call__(self) -> int:
        ms = int(self._clock.now() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (1 << 17) | (1 << 12)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def on_shard(self, shard: int, count: int) -> int:
        """A new snowflake whose guild lives on ``shard`` of ``count``: Discord's sharding
        formula is ``(guild_id >> 22) % count``, so the time part is moved ahead to fit."""
        value = self()
        ms = value >> 22
        ms += (shard - ms) % count
        if ms != value >> 22:
            value = (ms << 22) | (1 << 17) | (1 << 12)
            self._last = value
        return value
