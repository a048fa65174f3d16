"""Keeping jobs safe while storage fails: bookkeeping retried, then held for the reconciler."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.errors import BotError
from bot.faults import log_failure
from bot.jobs.observer import Notify
from bot.records import Job, JobState
from bot.storage import STORAGE_ERRORS, Storage

__all__ = ["RECONCILE_FACTOR", "STORAGE_TRIES", "StorageFaults"]

log = logging.getLogger(__name__)

# A job's bookkeeping write is tried this often (backoff from RETRY_BASE_SECONDS) before
# the reconciler takes it over; the reconciler looks again every RETRY_BASE_SECONDS x factor.
STORAGE_TRIES = 3
RECONCILE_FACTOR = 5

Step = Callable[[], Awaitable[None]]


class StorageFaults:
    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        notify: Notify,
        *,
        fail: Callable[[Job, BotError], Awaitable[None]],
        is_running: Callable[[int], bool],
    ) -> None:
        self._storage = storage
        self._settings = settings
        self._notify = notify
        self._fail = fail  # ends a job without pictures (refunded), telling its member
        self._is_running = is_running  # whether this process works on the job right now
        # Bookkeeping a storage fault held up, by job id in the order it came (a job may have
        # more than one step waiting: each is settled, none replaces another), and the
        # guilds told about it.
        self.unsettled: dict[int, list[Step]] = {}
        self._incident_guilds: set[int] = set()

    def period(self) -> float:
        """How often the reconciler looks again (and how long a job waits for storage)."""
        return max(0.2, self._settings.retry_base_seconds * RECONCILE_FACTOR)

    async def settle(self, job: Job, step: Step, *, tell: bool = True) -> None:
        """Run a job's bookkeeping ``step``; a storage fault never strands the job.

        The write is tried a few times with backoff (a lock held past busy_timeout often
        clears); if storage still fails, the reconciler keeps trying, the member hears that
        their request is safe (``tell``) and the admins are alerted once per incident.
        """
        delay = self._settings.retry_base_seconds
        for attempt in range(1, STORAGE_TRIES + 1):
            try:
                await step()
            except STORAGE_ERRORS as exc:
                log.warning(
                    "Job %s: storage write failed (%s), try %d of %d",
                    job.id,
                    exc,
                    attempt,
                    STORAGE_TRIES,
                )
                if attempt < STORAGE_TRIES:
                    await asyncio.sleep(delay)
                    delay *= 2
            else:
                return
        self.unsettled.setdefault(job.id, []).append(step)
        if not self._incident_guilds:
            log.error(
                "Storage incident: writes fail (DATA_DIR or the database); the reconciler"
                " keeps trying"
            )
        if tell:
            await self._notify(
                lambda observer: observer.job_delayed(job, BotError("error.storage_trouble"))
            )
        if job.guild_id not in self._incident_guilds:
            self._incident_guilds.add(job.guild_id)
            await self._notify(lambda observer: observer.storage_alert(job.guild_id))

    async def reconcile_forever(self) -> None:
        """The reconciler's loop; the queue cancels it when it stops."""
        while True:
            await asyncio.sleep(self.period())
            try:
                await self.reconcile()
            except Exception as exc:
                log_failure(log, exc, "The reconciler failed; it tries again")

    async def reconcile(self) -> None:
        """Settle what storage faults left: held bookkeeping first, then stray 'running' rows."""
        for job_id, steps in list(self.unsettled.items()):
            while steps:
                try:
                    await steps[0]()
                except STORAGE_ERRORS:
                    return  # still failing: next round
                steps.pop(0)
            self.unsettled.pop(job_id, None)
            log.info("Job %s settled after a storage fault", job_id)
        if self._incident_guilds:
            log.warning("Storage works again; every job it held up is settled")
            self._incident_guilds.clear()
        try:
            running = await self._storage.jobs.running_ids()
        except STORAGE_ERRORS:
            return
        for job_id in running:
            if self._is_running(job_id) or job_id in self.unsettled:
                continue
            # Left 'running' by this process with nobody working on it: end it, refunded.
            job = await self._storage.jobs.get(job_id)
            if job is None or job.state != JobState.RUNNING or self._is_running(job_id):
                continue
            log.warning("Job %s was left running; settling it as failed", job_id)
            stray = BotError("error.unexpected", reference=f"job-{job_id}")
            await self.settle(job, functools.partial(self._fail, job, stray))
