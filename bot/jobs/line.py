"""The line of jobs waiting to be drawn in this process: who is next, and when.

The fair order is the scheduler's (bot/jobs/scheduler.py); this adds time. A job may wait
until a moment (a retry's backoff, a storage fault, no room in the limits other processes
share), and the dispatcher sleeps until a job is due or one is added.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from bot.jobs.scheduler import FairScheduler
from bot.records import Job
from bot.storage.leases import Waiting

__all__ = ["WaitingLine"]


class WaitingLine:
    def __init__(self, scheduler: FairScheduler) -> None:
        self.scheduler = scheduler
        self._not_before: dict[int, float] = {}
        self._added = asyncio.Event()

    def __contains__(self, job_id: int) -> bool:
        return job_id in self.scheduler

    def add(self, job: Job | Waiting, not_before: float | None = None) -> None:
        """In line (once), due at ``not_before`` or the job's own, if later than now."""
        self.scheduler.add(job.id, job.guild_id, job.user_id)
        due = job.not_before if not_before is None else not_before
        if due > time.time():
            self._not_before[job.id] = due
        self._added.set()

    def remove(self, job_id: int) -> None:
        self.scheduler.remove(job_id)
        self._not_before.pop(job_id, None)

    def waits(self, job_id: int) -> bool:
        """Whether the job is in line but not due yet."""
        return job_id in self._not_before

    def wake(self) -> None:
        """Let the dispatcher look again (it is stopping, or a slot came free)."""
        self._added.set()

    async def next_due(self, stopping: Callable[[], bool]) -> int | None:
        """The next job in fair order that is due, taken out of the line; waits for one.
        None once ``stopping`` says so (``wake`` makes it look)."""
        while not stopping():
            now = time.time()
            waiting = {j: t for j, t in self._not_before.items() if t > now}
            self._not_before = waiting
            job_id = self.scheduler.pop(lambda j: j not in self._not_before)
            if job_id is not None:
                return job_id
            self._added.clear()
            timeout = min(waiting.values()) - now if waiting else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._added.wait(), timeout)
        return None
