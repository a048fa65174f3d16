"""The operator's instruments, started and stopped together by the composition root:
the metrics endpoint, the heartbeat, and the daily retention sweep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.jobs.queue import JobQueue
from bot.ops.heartbeat import Heartbeat
from bot.ops.metrics import Metrics
from bot.ops.openai_watch import OpenAIHealth
from bot.ops.retention import RetentionService

__all__ = ["Cockpit"]


@dataclass(slots=True)
class Cockpit:
    settings: Settings
    metrics: Metrics
    openai_health: OpenAIHealth
    retention: RetentionService
    started_at: float = field(default_factory=time.time, init=False)
    _heartbeat: Heartbeat | None = field(default=None, init=False)

    def start(
        self,
        queue: JobQueue,
        *,
        gateway_connected: Callable[[], bool],
        gateway_latency: Callable[[], float],
    ) -> None:
        self.metrics.watch(
            queue_depth=lambda: len(queue.queued_ids()),
            running=queue.drawing,
            gateway_latency=gateway_latency,
        )
        if self.settings.metrics_port is not None:
            self.metrics.serve(self.settings.metrics_host, self.settings.metrics_port)
        self._heartbeat = Heartbeat(
            self.settings.heartbeat_path,
            self.settings.heartbeat_seconds,
            gateway_connected=gateway_connected,
            on_beat=self.metrics.refresh,
        )
        self._heartbeat.start()
        self.retention.start()

    async def stop(self) -> None:
        await self.retention.stop()
        await asyncio.to_thread(self.metrics.stop_serving)
        if self._heartbeat is not None:
            await self._heartbeat.stop()
