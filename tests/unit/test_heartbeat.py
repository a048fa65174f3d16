"""The heartbeat proves the event loop is responsive: a blocked loop stops refreshing it, and
the health check then calls the bot stuck; the daily sweep keeps coming back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.images.store import ImageStore
from bot.ops.heartbeat import Heartbeat, health_problems
from bot.ops.retention import RetentionService, Swept
from tests.storage_helpers import open_storage


async def test_a_blocked_event_loop_makes_the_bot_unhealthy(tmp_path: Path) -> None:
    beats = asyncio.Queue[None]()
    async with open_storage(tmp_path / "bot.sqlite3"):
        heartbeat = Heartbeat(
            tmp_path / "heartbeat.json",
            0.05,
            gateway_connected=lambda: True,
            on_beat=lambda: beats.put_nowait(None),
        )
        heartbeat.start()
        for _ in range(3):  # a beat starts by refreshing the gauges, then writes: 2 written
            await asyncio.wait_for(beats.get(), timeout=5)
        assert health_problems(heartbeat.path, tmp_path / "bot.sqlite3") == []
        time.sleep(0.3)  # noqa: ASYNC251 - the point: something blocks the event loop
        problems = health_problems(heartbeat.path, tmp_path / "bot.sqlite3")
        assert len(problems) == 1 and "stuck or stopped" in problems[0]
        await heartbeat.stop()
    assert not heartbeat.path.exists()
    assert health_problems(heartbeat.path, tmp_path / "missing.sqlite3") == [
        "no heartbeat: the bot is not running",
        "the database does not exist",
    ]


async def test_the_sweep_runs_at_start_and_again_each_period(tmp_path: Path) -> None:
    swept = asyncio.Queue[None]()

    class Counted(RetentionService):
        async def sweep(self) -> Swept:
            result = await super().sweep()
            swept.put_nowait(None)
            return result

    async with open_storage(tmp_path / "bot.sqlite3") as storage:
        service = Counted(storage, ImageStore(tmp_path / "images"), period=0.01)
        service.start()
        for _ in range(3):
            await asyncio.wait_for(swept.get(), timeout=5)
        await service.stop()
