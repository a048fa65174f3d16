"""The heartbeat the running bot writes, and ``python -m bot healthcheck`` that reads it.

Every ``HEARTBEAT_SECONDS`` a task on the event loop writes ``DATA_DIR/heartbeat.json``: the
time, whether the Discord gateway is connected, and how late the task woke up. A fresh file
therefore proves the loop is responsive (a blocked loop stops writing it); a stopped bot
removes it, a killed one leaves it to go stale. The same tick refreshes the metrics' gauges.

The health check runs in a process of its own (Docker's ``HEALTHCHECK``): healthy means the
file is fresh (younger than three beats), says the gateway is connected, and the database
answers a read and would take a write within a couple of seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.faults import log_failure
from bot.ops.background import BackgroundTask
from bot.storage.operations import probe_database

__all__ = ["Heartbeat", "health_problems"]

log = logging.getLogger(__name__)

# The beat may be this many periods old before the bot counts as unresponsive.
STALE_BEATS = 3
# How long the check waits for SQLite's write lock before it calls the database locked.
DATABASE_TIMEOUT_SECONDS = 2.0


class Heartbeat:
    def __init__(
        self,
        path: Path,
        interval: float,
        *,
        gateway_connected: Callable[[], bool],
        on_beat: Callable[[], None] = lambda: None,
    ) -> None:
        self.path = path
        self.interval = interval
        self._gateway_connected = gateway_connected
        self._on_beat = on_beat
        self._beating = BackgroundTask("heartbeat", self._beat_forever)

    def start(self) -> None:
        self._beating.start()

    async def stop(self) -> None:
        await self._beating.stop()
        # A stopped bot is not healthy: the check must not read a last, fresh beat.
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.path.unlink, missing_ok=True)

    async def _beat_forever(self) -> None:
        lag = 0.0
        while True:
            try:
                self._on_beat()
                await asyncio.to_thread(self._write, self._gateway_connected(), lag)
            except Exception as exc:
                log_failure(log, exc, "The heartbeat could not be written")
            planned = time.monotonic() + self.interval
            await asyncio.sleep(self.interval)
            lag = max(0.0, time.monotonic() - planned)

    def _write(self, connected: bool, lag: float) -> None:
        beat = {
            "written_at": time.time(),
            "gateway_connected": connected,
            "loop_lag_seconds": round(lag, 3),
            "interval_seconds": self.interval,
            "pid": os.getpid(),
        }
        temp = self.path.with_name(f".{self.path.name}.tmp")
        temp.write_text(json.dumps(beat), "utf-8")
        os.replace(temp, self.path)  # atomic: the check never reads half a beat


def health_problems(heartbeat: Path, database: Path | None, now: float | None = None) -> list[str]:
    """What makes the bot unhealthy; empty when it is healthy. ``database``: the SQLite file
    to probe (None when the bot keeps its data in PostgreSQL; the caller probes that)."""
    now = time.time() if now is None else now
    problems: list[str] = []
    try:
        beat = json.loads(heartbeat.read_text("utf-8"))
        age = now - float(beat["written_at"])
        limit = STALE_BEATS * float(beat["interval_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        problems.append("no heartbeat: the bot is not running")
    else:
        if age > limit:
            problems.append(f"the heartbeat is {age:.0f} s old: the bot is stuck or stopped")
        if not beat.get("gateway_connected"):
            problems.append("the Discord gateway is not connected")
    trouble = probe_database(database, DATABASE_TIMEOUT_SECONDS) if database else None
    if trouble:
        problems.append(trouble)
    return problems
