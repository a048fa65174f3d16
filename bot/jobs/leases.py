"""Several processes, one queue (issue 25): what a process takes over, and when.

Every job a process runs, and every finished one it has still to post, is held under the
process's worker name with a lease (``JobRepository``). This module keeps those leases
alive, takes over the jobs of a process whose leases ran out (it died, or lost the
database for longer than a lease), and picks up jobs that other processes took in, so any
process may run any job and a member's job never waits for the process that heard it.

A job taken over while it was running is finished exactly as after a restart: if the dead
process was already paid for its pictures (a kept answer under ``DATA_DIR/answers``, a
shared volume), they are recorded and posted, never drawn again; otherwise the job goes
back in line and is drawn once. A finished job not yet posted is posted by the taker, who
first looks for a post the dead process may have made (``JobPoster.redeliver``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from bot.config import Settings
from bot.jobs.limiter import MARGIN, WINDOW, RateLimiter
from bot.jobs.posting import JobPoster
from bot.records import Job, JobState
from bot.storage import STORAGE_ERRORS, SharedLimits, Storage
from bot.storage.leases import Waiting

__all__ = ["Takeover"]

log = logging.getLogger(__name__)

# Leases are renewed this many times per lease: a holder that misses one or two renewals
# (a slow database moment) still keeps its jobs.
RENEWALS_PER_LEASE = 4


class Takeover:
    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        poster: JobPoster,
        limiter: RateLimiter,
        *,
        schedule: Callable[[Waiting], None],
        served: Callable[[int, int], None],
        scheduled: Callable[[], Collection[int]],
        unschedule: Callable[[int], None],
        running: Callable[[], dict[int, asyncio.Task[None]]],
        redeliver: Callable[[Job], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._storage = storage
        self._settings = settings
        self._poster = poster
        self._limiter = limiter
        # With other processes: the running jobs and pictures a minute all of them count.
        self._shared = (
            SharedLimits(settings.max_concurrent_jobs, settings.images_per_minute, WINDOW + MARGIN)
            if settings.shares_queue
            else None
        )
        self._schedule = schedule  # put a job in this process's line (idempotent)
        self._served = served  # another process started a job of this (guild, member)
        self._seen_starts = time.time()  # starts elsewhere up to here are in the line's order
        self._scheduled = scheduled  # the jobs in this process's line
        self._unschedule = unschedule
        self._running = running  # the jobs this process draws now, by id
        self._redeliver = redeliver  # post a finished job's pictures (in the background)
        self._clock = clock
        self._sleep = sleep
        # True while jobs taken over are between "held here" and "recorded or back in
        # line": nobody draws them, yet the reconciler must not settle them as strays.
        self.taking = False
        # Jobs taken over whose take-over a storage fault cut short (held here, neither
        # recorded nor back in line; nobody else may take them), and jobs taken over whose
        # pictures are recorded and still to be posted: the next round finishes both.
        self._unresolved: set[int] = set()
        self._to_post: set[int] = set()
        # The task that claimed each job, until it ends: what this process draws now.
        self._claimed: dict[int, asyncio.Task[object]] = {}

    # --- at start ----------------------------------------------------------------------------

    async def at_start(self) -> int:
        """Take back what this process's previous run held (and what a dead process left):
        kept answers are recorded, the rest goes back in line. Returns how many were
        interrupted mid-drawing. Finished jobs to post are :meth:`undelivered_at_start`."""
        held = await self._storage.leases.take_over_running(own=True)
        await self._resume(held, tidy=True)
        return len(held)

    async def undelivered_at_start(self) -> list[Job]:
        return await self._storage.leases.take_over_undelivered(own=True)

    async def _resume(self, held: list[int], *, tidy: bool) -> list[int]:
        """Finish taking over running jobs this process now holds: a paid answer is
        recorded (returned: to post), every other job waits in line again."""
        recorded = await self._poster.record_kept_answers(held, tidy=tidy)
        await self._storage.leases.requeue([job_id for job_id in held if job_id not in recorded])
        return recorded

    # --- while running -----------------------------------------------------------------------

    async def claim(self, job: Job, *, prompt: str, model: str) -> bool | None:
        """Claim ``job`` to draw it, noting the ``prompt`` and ``model`` it is sent with:
        True if this process draws it, False if it no longer waits (cancelled, or another
        process claimed it). None if it waits but the limits all processes share have no
        room now: this process's limiter then counts what all processes spent (not the
        pictures it counted for ``job``, which were not sent)."""
        claimed = await self._storage.jobs.mark_running(
            job.id, self._shared, prompt=prompt, model=model
        )
        if claimed:
            task = asyncio.current_task()
            if task is not None:
                self._claimed[job.id] = task
            return True
        if self._shared is None:
            return False
        current = await self._storage.jobs.get(job.id)
        if current is None or current.state != JobState.QUEUED:
            return False
        await self._wait_as_shared(self._shared)
        return None

    def drawing(self) -> int:
        """How many jobs this process draws now (claimed, not yet ended): what the metrics
        show. Not the limiter's slots: the dispatcher holds one while it waits for a job."""
        self._claimed = {job_id: t for job_id, t in self._claimed.items() if not t.done()}
        return len(self._claimed)

    async def room_to_start(self, job: Job) -> bool:
        """Whether the limits all processes share have room for ``job`` now (alone, there
        are none). Looked at before the job's request is made ready, so a job that waits for
        room is not made ready again each time it looks; if there is none, this process
        waits as the shared limits say (see :meth:`claim`)."""
        if self._shared is None:
            return True
        if await self._storage.leases.room_to_draw(job.id, self._shared):
            return True
        await self._wait_as_shared(self._shared)
        return False

    async def _wait_as_shared(self, shared: SharedLimits) -> None:
        # This process waits as long as the shared limits say: until the minute's budget
        # all processes spent has room, and through a pause another process heard of (a
        # 429, an empty account). Members' waiting times count these waits too.
        self._limiter.share_window(await self._storage.leases.spent_within(shared.window))
        paused = await self._storage.meta.drawing_paused_for()
        if paused > 0:
            self._limiter.pause_for(paused)

    async def keep_forever(self) -> None:
        """When other processes share the queue: renew this process's leases, take over
        dead processes' jobs and pick up the jobs other processes took in. A process alone
        with its database has nobody to share with: its start takes back all it held, so
        its leases never need renewing (and SQLite's writer is spared the writes)."""
        if not self._settings.shares_queue:
            return
        renew_every = self._settings.job_lease_seconds / RENEWALS_PER_LEASE
        tick = min(renew_every, self._settings.queue_poll_seconds)
        next_renewal = self._clock() + renew_every
        while True:
            await self._sleep(tick)
            try:
                if self._clock() >= next_renewal:
                    next_renewal = self._clock() + renew_every
                    await self.renew()
                    await self.take_over()
                await self.pick_up()
            except STORAGE_ERRORS as exc:
                # Nothing to do but try again: while the database is away nobody can take
                # this process's jobs either (the lease check is in the database).
                log.warning("Job leases not renewed (storage: %s); trying again", exc)

    async def renew(self) -> None:
        """Extend this process's leases; stop drawing any job another process took over
        (this process stalled past its lease), so the job is not drawn, or paid, twice."""
        held = await self._storage.leases.renew_leases()
        running = self._running()
        # Not renewed: taken over, or not claimed yet when the leases were renewed (and
        # perhaps claimed by this process since). Only another process's job is stopped.
        missing = [job_id for job_id, task in running.items() if job_id not in held]
        for job_id in await self._storage.leases.held_elsewhere(missing) if missing else ():
            task = running.get(job_id)  # (it may have ended meanwhile)
            if task is not None and not task.done():
                log.warning("Job %s was taken over by another process; stopping here", job_id)
                task.cancel()

    def holds(self, job_id: int) -> bool:
        """Whether ``job_id`` is being taken over here (or may be, for that moment): nobody
        draws it, yet the reconciler must not settle it as a stray."""
        return self.taking or job_id in self._unresolved

    async def take_over(self) -> None:
        """Finish what processes whose leases ran out left: drawings and posts. A storage
        fault on the way leaves what this process took for the next round to finish."""
        self.taking = True
        try:
            taken = await self._storage.leases.take_over_running(own=False)
            self._unresolved.update(taken)
            held = sorted(self._unresolved)
            if held:
                await self._resume(held, tidy=False)
            self._to_post.update(held)
            self._unresolved.clear()
        finally:
            self.taking = False
        if taken:
            log.warning("Took over %d jobs from a process that stopped", len(taken))
        for job_id in sorted(self._to_post):
            # Recorded now, or by a round a fault cut short: posted once (nothing else
            # posts a job this process took over while it was running).
            job = await self._storage.jobs.get(job_id)
            self._to_post.discard(job_id)
            if job is not None and job.state == JobState.DONE and not job.delivered:
                self._redeliver(job)
        if held:
            await self.pick_up()
        for job in await self._storage.leases.take_over_undelivered(own=False):
            log.warning("Job %s: posting what a process that stopped could not", job.id)
            self._redeliver(job)

    async def pick_up(self) -> None:
        """Line up every queued job, whichever process took it in, in one fair order
        (whom other processes served counts here too); drop from this process's line the
        jobs another process started or ended."""
        for guild_id, user_id, started in await self._storage.leases.started_elsewhere(
            self._seen_starts
        ):
            self._served(guild_id, user_id)
            self._seen_starts = max(self._seen_starts, started)
        queued = await self._storage.leases.waiting()
        # (One this process is about to start stays started.)
        known = set(self._scheduled()) | set(self._running())
        new = [job for job in queued if job.id not in known]
        for job in new:
            self._schedule(job)
        if new:
            log.info("Lined up waiting jobs other processes took in: %d", len(new))
        waiting = {job.id for job in queued}
        for job_id in [j for j in self._scheduled() if j not in waiting]:
            now = await self._storage.jobs.get(job_id)  # queued since the read above?
            if now is None or now.state != JobState.QUEUED:
                self._unschedule(job_id)
