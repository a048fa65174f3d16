"""Where each waiting job stands, how long it will take, and telling its member."""

from __future__ import annotations

import asyncio
import math
import statistics
from dataclasses import dataclass

from bot.jobs.limiter import RateLimiter
from bot.jobs.observer import Notify
from bot.jobs.scheduler import FairScheduler
from bot.records import Job, JobState
from bot.storage import Storage

__all__ = ["DEFAULT_JOB_SECONDS", "POSITION_UPDATES", "QueuePlaces"]

DEFAULT_JOB_SECONDS = 30.0
# How far down the line waiting members hear that their place changed (a server's waiting
# jobs are capped at GUILD_PENDING_CAP, 50 by default, so every member of a server is told).
POSITION_UPDATES = 100
# How many recent job durations the estimate is the median of.
RECENT_DURATIONS = 20
# A member whose place has not moved hears a new waiting time only when it ends clearly
# later than the one they were told: later by this many seconds, and by half the wait they
# were told (a wait of minutes that slips by a few seconds is no news).
LATER_BY_SECONDS = 15.0
LATER_BY_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Heard:
    """What a waiting job's member was last told: their place, and when (on the places'
    clock) the wait they were told ends."""

    position: int
    ends_at: float
    wait: float

    def outdated_by(self, position: int, ends_at: float) -> bool:
        """Whether a member told this must hear ``position`` and a wait ending at ``ends_at``."""
        later = ends_at - self.ends_at
        return position != self.position or later > max(
            LATER_BY_SECONDS, LATER_BY_SHARE * self.wait
        )


class QueuePlaces:
    def __init__(
        self, scheduler: FairScheduler, storage: Storage, limiter: RateLimiter, notify: Notify
    ) -> None:
        self._scheduler = scheduler
        self._storage = storage
        self._limiter = limiter
        self._notify = notify
        self._durations: list[float] = []
        # What each waiting job's member was last told, and one teller at a time so an
        # older order never lands after a newer one.
        self._told: dict[int, Heard] = {}
        # Jobs told nothing because they were to start at once (see tell).
        self._quiet: set[int] = set()
        self._lock = asyncio.Lock()

    async def load_durations(self) -> None:
        """At start: the estimate begins from what the latest finished jobs took."""
        self._durations = await self._storage.jobs.recent_durations()

    def record_duration(self, seconds: float) -> None:
        self._durations = [*self._durations[-(RECENT_DURATIONS - 1) :], seconds]

    def position(self, job_id: int) -> int | None:
        return self._scheduler.position(job_id)

    def eta(self, position: int) -> float | None:
        """Seconds until a job at ``position`` finishes, from recently measured durations."""
        typical = statistics.median(self._durations) if self._durations else DEFAULT_JOB_SECONDS
        rounds = math.ceil(position / self._limiter.concurrency)
        # Nothing starts before a pause ends and a picture fits in the minute's budget.
        held_back = max(self._limiter.paused_for(), self._limiter.wait_for_room(1))
        return rounds * typical + held_back

    async def tell(
        self, job: Job, position: int, eta_seconds: float | None, *, quietly: bool = False
    ) -> None:
        """Tell ``job``'s member their place and wait (and remember them, so they are not
        told twice).

        ``quietly``: the job starts at once, so its message goes straight to "drawing" (a
        "queued" edit first would cost a Discord round trip on the member's path and be gone
        a moment later); should it not start after all (someone fairer arrived first), the
        line's next update tells it its place.
        """
        wait = eta_seconds or 0.0
        # Waits end on the limiter's clock: its pauses and its minute are what they count.
        self._told[job.id] = Heard(position, self._limiter.now() + wait, wait)
        if quietly:
            self._quiet.add(job.id)
            return
        self._quiet.discard(job.id)
        await self._notify(lambda observer: observer.job_queued(job, position, eta_seconds))

    def forget(self, job_id: int) -> None:
        """The job's turn in the dispatcher is over: nothing more to remember of it here."""
        self._quiet.discard(job_id)

    async def wait_for_budget(self, job: Job) -> None:
        """Spend ``job``'s pictures of the images-per-minute budget, waiting for room (or
        for a pause to end) first if need be; a member told nothing because their job was
        to start at once hears their place before that wait."""
        if not self._limiter.has_room_now(job.image_count):
            await self.still_waiting(job)
        await self._limiter.take(job.image_count)

    async def still_waiting(self, job: Job) -> None:
        """``job`` was to start and waits after all (for the budget, or because other
        processes fill the limits they share with this one): its member hears their place if
        they were told nothing (it was to start at once), and their wait if it now ends
        clearly later than they were told (this process learnt only now how much the others
        spent, or of a pause)."""
        position = self._scheduler.position(job.id) or 1
        eta = self.eta(position)
        if job.id in self._quiet or self._outdated(job.id, position, eta):
            await self.tell(job, position, eta)

    def _outdated(self, job_id: int, position: int, eta: float | None) -> bool:
        heard = self._told.get(job_id)
        return heard is None or heard.outdated_by(position, self._limiter.now() + (eta or 0.0))

    async def tell_moved(self) -> None:
        """The line changed: every waiting member whose place moved, or whose wait now ends
        clearly later than they were told (a pause, a budget other processes filled), sees
        the new one.

        Places come from the scheduler's own order (the order jobs will start in), so no two
        members are told the same place. Each job's message is edited through its own
        interaction webhook, so these edits do not queue behind each other at Discord.
        """
        async with self._lock:
            order = self._scheduler.order()
            waiting = set(order)
            self._told = {j: p for j, p in self._told.items() if j in waiting}
            for position, job_id in enumerate(order[:POSITION_UPDATES], start=1):
                eta = self.eta(position)
                if not self._outdated(job_id, position, eta):
                    continue
                job = await self._storage.jobs.get(job_id)
                if job is None or job.state != JobState.QUEUED:
                    continue
                await self.tell(job, position, eta)
