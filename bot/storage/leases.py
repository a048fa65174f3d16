"""Which process holds which job, when several share the database: leases, take-overs, and
what each process reads of the others (the waiting line, whom they served, what they spent).

Every process has a worker name. A job it runs, and a finished one it has still to post, is
held under that name with a lease it renews (``renew_leases``); another process may take the
job over once the lease runs out (its holder died or stalled).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.records import Job, JobState
from bot.storage.database import Database, Repository, placeholders
from bot.storage.room import DRAW_ROOM, SharedLimits

__all__ = ["HELD_HERE", "LeaseRepository", "Waiting", "WorkerLease"]


@dataclass(frozen=True, slots=True)
class WorkerLease:
    """This process's worker name and how long a lease it takes lasts."""

    name: str = "main"
    seconds: float = 60.0

    def until(self) -> float:
        """When a lease taken now runs out."""
        return time.time() + self.seconds


# The clause that says a job's lease lets the process ``worker`` take it over now: nobody
# holds it, or its holder's lease ran out (the holder died or stalled). With ``own`` it also
# takes the jobs its own name holds: at start, what a previous run of this process left.
_MAY_TAKE = "(worker IS NULL OR lease_until IS NULL OR lease_until < ?)"
_MAY_TAKE_OWN = "(worker IS NULL OR worker = ? OR lease_until IS NULL OR lease_until < ?)"
# The clause that says the process named ``?`` may settle a job (record its pictures, fail
# it, put it back in line): one waiting in line, which nobody draws, or one this process
# draws. A job another process took over (this one stalled past its lease) is the other's.
HELD_HERE = "(jobs.state = 'queued' OR (jobs.state = 'running' AND jobs.worker = ?))"
# A finished job whose pictures (or failure) are not yet posted is held until they are.
_UNDELIVERED = "state IN ('done', 'failed') AND delivered = 0"


class Waiting(NamedTuple):
    """A job waiting in line, as the fair order places it."""

    id: int
    guild_id: int
    user_id: int
    not_before: float


class LeaseRepository(Repository):
    def __init__(self, db: Database, worker: WorkerLease) -> None:
        super().__init__(db)
        self.worker = worker.name
        self._lease = worker.until

    async def take_over_running(self, *, own: bool) -> list[int]:
        """Hold every running job whose holder is gone (with ``own``, at start, also those
        this worker's previous run left); return their ids. The caller records a kept
        answer or puts the job back in line (``requeue``): nobody else works on them now."""
        who, clause = ((self.worker,), _MAY_TAKE_OWN) if own else ((), _MAY_TAKE)
        return await self._take(f"state = 'running' AND {clause}", (*who, time.time()))

    async def take_over_undelivered(self, *, own: bool) -> list[Job]:
        """Hold every finished job not yet posted whose holder is gone (with ``own``, also
        this worker's previous run's): this process posts them."""
        who, clause = ((self.worker,), _MAY_TAKE_OWN) if own else ((), _MAY_TAKE)
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                f"UPDATE jobs SET worker = ?, lease_until = ? WHERE {_UNDELIVERED} AND {clause}"
                " RETURNING *",
                (self.worker, self._lease(), *who, time.time()),
            )
        return sorted((Job.from_row(row) for row in rows), key=lambda job: job.id)

    async def _take(self, where: str, params: tuple[Any, ...]) -> list[int]:
        async with self._db.transaction() as conn:
            rows = await conn.execute_fetchall(
                f"UPDATE jobs SET worker = ?, lease_until = ? WHERE {where} RETURNING id",
                (self.worker, self._lease(), *params),
            )
        return sorted(int(row[0]) for row in rows)

    async def requeue(self, job_ids: list[int]) -> int:
        """Put running jobs this worker holds back in line, free for any process."""
        if not job_ids:
            return 0
        marks = placeholders(len(job_ids))
        return await self._db.execute(
            "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL"
            f" WHERE state = 'running' AND worker = ? AND id IN ({marks})",
            (self.worker, *job_ids),
        )

    async def held_elsewhere(self, job_ids: list[int]) -> dict[int, JobState]:
        """Those of ``job_ids`` another process now draws, or drew or failed (this one
        stalled past its lease, and the other took them over), with their states."""
        marks = placeholders(len(job_ids))
        rows = await self._db.fetch_all(
            "SELECT id, state FROM jobs WHERE state IN ('running', 'done', 'failed')"
            f" AND worker != ? AND id IN ({marks})",
            (self.worker, *job_ids),
        )
        return {int(row[0]): JobState(row[1]) for row in rows}

    async def renew_leases(self) -> set[int]:
        """Extend the lease of every job this worker holds; return their ids. A job this
        worker thinks it runs but that is missing here was taken over by another process."""
        return set(
            await self._take(
                f"worker = ? AND (state = 'running' OR ({_UNDELIVERED}))", (self.worker,)
            )
        )

    async def started_elsewhere(self, since: float) -> list[tuple[int, int, float]]:
        """(guild, member, when) of each job another process started after ``since``,
        oldest first: whom the other processes served, for this one's fair order."""
        rows = await self._db.fetch_all(
            "SELECT guild_id, user_id, started_at FROM jobs WHERE started_at > ?"
            " AND (worker IS NULL OR worker != ?) ORDER BY started_at",
            (since, self.worker),
        )
        return [(int(r[0]), int(r[1]), float(r[2])) for r in rows]

    async def spent_within(self, window: float) -> list[tuple[float, int]]:
        """(seconds ago, pictures) of every claim any process made in the last ``window``
        seconds: the images-per-minute window all processes share."""
        rows = await self._db.fetch_all(
            "SELECT db_now() - at, images FROM image_spends WHERE at > db_now() - ?", (window,)
        )
        return [(float(r[0]), int(r[1])) for r in rows]

    async def room_to_draw(self, job_id: int, within: SharedLimits) -> bool:
        """Whether ``within`` the limits all processes share there is room to start the job
        now: a read, a look before the work of a claim (``mark_running`` decides, atomically)."""
        return within.allow(await self._db.fetch_one(DRAW_ROOM, (within.window, job_id)))

    async def waiting(self) -> list[Waiting]:
        """What a line needs of every waiting job, oldest first: read every few seconds by
        each process sharing the queue, so only these four columns (a long line is cheap)."""
        rows = await self._db.fetch_all(
            "SELECT id, guild_id, user_id, not_before FROM jobs WHERE state = 'queued' ORDER BY id"
        )
        return [Waiting(int(r[0]), int(r[1]), int(r[2]), float(r[3] or 0)) for r in rows]
