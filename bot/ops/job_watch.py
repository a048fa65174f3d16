"""The queue's events, counted and logged on their way to the Discord delivery.

:class:`WatchedObserver` is a :class:`~bot.jobs.observer.JobObserver` that passes every event
on to the real observer (``cogs/pictures/delivery.py``) unchanged, and on the way counts jobs
by state and kind, times them, adds the pictures, tokens and cost the usage records hold, and
writes one log line per milestone with the job id, guild id and event (``LOG_FORMAT=json``).
"""

from __future__ import annotations

import logging
import time

from bot.errors import BotError
from bot.jobs.observer import JobObserver
from bot.ops.metrics import Metrics
from bot.records import Character, Job, JobState, StoredImage
from bot.storage import Storage

__all__ = ["WatchedObserver"]

log = logging.getLogger(__name__)


def _about(job: Job, event: str) -> dict[str, object]:
    return {"event": event, "job_id": job.id, "guild_id": job.guild_id}


class WatchedObserver:
    def __init__(self, inner: JobObserver, metrics: Metrics, storage: Storage) -> None:
        self.inner = inner
        self._metrics = metrics
        self._storage = storage

    async def job_queued(self, job: Job, position: int, eta_seconds: float | None) -> None:
        await self.inner.job_queued(job, position, eta_seconds)

    async def job_started(self, job: Job) -> None:
        kind = job.kind.value
        self._metrics.jobs.labels("running", kind).inc()
        if job.started_at is not None:
            self._metrics.queue_wait.labels(kind).observe(max(0.0, job.started_at - job.created_at))
        log.info("Job %s started (%s)", job.id, kind, extra=_about(job, "job.started"))
        await self.inner.job_started(job)

    async def job_progress(self, job: Job, preview: bytes) -> None:
        await self.inner.job_progress(job, preview)

    async def job_done(
        self, job: Job, character: Character, images: list[StoredImage]
    ) -> int | None:
        message_id = await self.inner.job_done(job, character, images)
        kind = job.kind.value
        # Read before counting anything, so a scrape never sees a job done without its tokens.
        usage = await self._storage.operations.job_usage(job.id)
        if usage is not None:
            self._metrics.tokens.labels("input").inc(usage.input_tokens)
            self._metrics.tokens.labels("output").inc(usage.output_tokens)
            if usage.cost_usd is not None:
                self._metrics.cost.inc(usage.cost_usd)
        self._metrics.images.labels(kind).inc(len(images))
        if job.started_at is not None:
            self._metrics.job_duration.labels(kind).observe(max(0.0, time.time() - job.started_at))
        self._metrics.jobs.labels("done", kind).inc()
        log.info(
            "Job %s done: %d pictures posted", job.id, len(images), extra=_about(job, "job.done")
        )
        return message_id

    async def job_failed(self, job: Job, error: BotError) -> None:
        # A billing pause keeps the job waiting (state queued): it has not failed for good.
        state = "failed" if job.state == JobState.FAILED else "held"
        self._metrics.jobs.labels(state, job.kind.value).inc()
        log.info(
            "Job %s %s: %s", job.id, state, error.message_key, extra=_about(job, f"job.{state}")
        )
        await self.inner.job_failed(job, error)

    async def job_undeliverable(self, job: Job, error: BotError) -> None:
        self._metrics.jobs.labels("undeliverable", job.kind.value).inc()
        await self.inner.job_undeliverable(job, error)

    async def job_delayed(self, job: Job, error: BotError) -> None:
        await self.inner.job_delayed(job, error)

    async def storage_alert(self, guild_id: int) -> None:
        await self.inner.storage_alert(guild_id)

    async def job_cancelled(self, job: Job) -> None:
        self._metrics.jobs.labels("cancelled", job.kind.value).inc()
        log.info("Job %s cancelled", job.id, extra=_about(job, "job.cancelled"))
        await self.inner.job_cancelled(job)

    async def admin_alert(self, guild_id: int, error: BotError) -> None:
        await self.inner.admin_alert(guild_id, error)
