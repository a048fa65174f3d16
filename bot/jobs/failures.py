"""What becomes of a job whose drawing failed: tried again later, held, or ended (refunded)."""

from __future__ import annotations

import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.errors import BotError, ConfigError, UpstreamBusy
from bot.jobs.limiter import RateLimiter
from bot.jobs.observer import Notify
from bot.jobs.storage_faults import StorageFaults
from bot.records import Job
from bot.storage import STORAGE_ERRORS, Storage

__all__ = ["BILLING_PAUSE_SECONDS", "DrawingFailures"]

log = logging.getLogger(__name__)

# A billing problem stops every call until someone tops up; look again this often.
BILLING_PAUSE_SECONDS = 600.0


class DrawingFailures:
    def __init__(
        self,
        storage: Storage,
        limiter: RateLimiter,
        settings: Settings,
        faults: StorageFaults,
        notify: Notify,
        *,
        fail: Callable[[Job, BotError], Awaitable[None]],
        schedule: Callable[[Job], None],
        back_in_line: Callable[[Job, float], Awaitable[None]],
        departed: Callable[[int], bool],
    ) -> None:
        self._storage = storage
        self._limiter = limiter
        self._settings = settings
        self._settle = faults.settle
        self._notify = notify
        self._fail = fail  # ends the job without pictures (refunded), telling its member
        self._schedule = schedule  # puts a job back in the scheduler's line
        # Puts a retried job back in line and tells its member, who waits ``delay`` s more.
        self._back_in_line = back_in_line
        self._departed = departed  # the bot was removed from this server

    async def handle(self, job: Job, exc: Exception) -> None:
        """``job``'s drawing raised ``exc`` (nothing was kept): settle what follows."""
        if isinstance(exc, UpstreamBusy):
            await self._settle(job, functools.partial(self._retry_or_fail, job, exc))
        elif isinstance(exc, STORAGE_ERRORS):
            # Before the API call (nothing paid): try again later, like a busy upstream.
            log.warning("Job %s: storage failed before drawing (%s)", job.id, exc)
            busy = UpstreamBusy("error.storage_failed")
            await self._settle(job, functools.partial(self._retry_or_fail, job, busy))
        elif isinstance(exc, ConfigError):
            await self._settle(job, functools.partial(self._config_problem, job, exc))
        elif isinstance(exc, BotError):
            await self._settle(job, functools.partial(self._fail, job, exc))
        else:
            reference = uuid.uuid4().hex[:8]
            log.error("Job %s crashed (reference %s)", job.id, reference, exc_info=exc)
            crashed = BotError("error.unexpected", reference=reference)
            await self._settle(job, functools.partial(self._fail, job, crashed))

    async def _pause(self, seconds: float) -> None:
        """Nobody calls OpenAI for ``seconds``: not this process, nor (sharing the queue)
        any other, since the account's limits are one."""
        self._limiter.pause_for(seconds)
        if self._settings.shares_queue:
            await self._storage.meta.pause_drawing(seconds)

    async def _retry_or_fail(self, job: Job, exc: UpstreamBusy) -> None:
        if exc.maybe_billed:
            await self._storage.jobs.note_maybe_billed(job.id)
        if self._departed(job.guild_id):
            await self._fail(job, exc)  # the server removed the bot: no more paid attempts
            return
        if exc.retry_after:
            await self._pause(exc.retry_after)
        if job.attempts >= self._settings.max_attempts:
            await self._fail(job, exc)
            return
        delay = exc.retry_after or self._settings.retry_base_seconds * 2 ** (job.attempts - 1)
        not_before = time.time() + delay
        log.info("Job %s: upstream busy, retry %d in %.1f s", job.id, job.attempts, delay)
        if not await self._storage.jobs.retry_later(job.id, not_before, "upstream_busy"):
            return  # another process took it over (this one stalled): it is theirs
        retried = await self._storage.jobs.get(job.id)
        if retried is not None:
            await self._back_in_line(retried, delay)

    async def _config_problem(self, job: Job, exc: ConfigError) -> None:
        log.error("Job %s stopped by a configuration problem: %s", job.id, exc.reason)
        await self._notify(lambda observer: observer.admin_alert(job.guild_id, exc))
        if exc.reason == "insufficient_quota":
            # Out of credit: keep the job (uncharged) and pause everyone until billing is fixed.
            await self._pause(BILLING_PAUSE_SECONDS)
            retried = None
            if await self._storage.jobs.retry_later(job.id, time.time(), "billing"):
                retried = await self._storage.jobs.get(job.id)
            if retried is not None:
                self._schedule(retried)
                await self._notify(lambda observer: observer.job_failed(retried, exc))
            return
        await self._fail(job, exc)
