"""The queue as members see it: what waits or runs, in the order it will run, and cancelling.

The rules live here, not in the /queue cog: a member sees and cancels their own jobs, an
admin every job of the server, and a job of another server is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NotAllowed, NotFound
from bot.jobs.queue import JobQueue
from bot.records import Job, JobState
from bot.storage import Storage

__all__ = ["ListedJob", "QueueBoard"]


@dataclass(frozen=True, slots=True)
class ListedJob:
    job: Job
    position: int | None  # place in line for a waiting job; None while it runs
    eta_seconds: float | None


class QueueBoard:
    def __init__(self, storage: Storage, queue: JobQueue) -> None:
        self._storage = storage
        self._queue = queue

    async def listing(self, guild_id: int, viewer_id: int, *, is_admin: bool) -> list[ListedJob]:
        """Running jobs first, then waiting ones in the order the scheduler will start them."""
        jobs = await self._storage.jobs.pending_for_guild(guild_id)
        if not is_admin:
            jobs = [job for job in jobs if job.user_id == viewer_id]
        order = self._queue.queued_ids(guild_id)
        positions = {job_id: index for index, job_id in enumerate(order, start=1)}
        jobs.sort(key=lambda j: (j.state != JobState.RUNNING, positions.get(j.id, 0)))
        listed = []
        for job in jobs:
            if job.state == JobState.RUNNING:
                listed.append(ListedJob(job, None, None))
            else:
                position = positions.get(job.id)
                listed.append(ListedJob(job, position, self._queue.eta(position or 1)))
        return listed

    async def cancel(self, guild_id: int, member_id: int, job_id: int, *, is_admin: bool) -> Job:
        """Cancel a waiting job (it is refunded); the member's own, or any job for an admin."""
        job = await self._storage.jobs.get(job_id)
        if job is None or job.guild_id != guild_id:
            raise NotFound("error.job_not_found")
        if job.user_id != member_id and not is_admin:
            raise NotAllowed("error.cancel_not_owner")
        if not await self._queue.cancel(job.id):
            raise NotAllowed("error.cancel_too_late")
        return job
