"""Job rows: atomic insertion against quotas and caps, state changes, queue reads."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.errors import CharacterGone
from bot.records import Character, Job, JobKind, JobRequest
from bot.storage.characters import NewCharacter, character_insert, find_or_create_fork
from bot.storage.database import Connection, Database, Repository, fetch_first
from bot.storage.leases import HELD_HERE, WorkerLease
from bot.storage.room import DRAW_ROOM, Limits, SharedLimits, refuse_unless_room, room_query

__all__ = ["JobRepository", "NewJob"]


@dataclass(frozen=True, slots=True)
class NewJob:
    guild_id: int
    channel_id: int
    user_id: int
    kind: JobKind
    request: JobRequest
    image_count: int
    locale: str
    character_id: int | None = None
    parent_image_id: int | None = None
    reference_path: str | None = None
    application_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    interaction_at: float | None = None
    # The job's estimated cost, reserved against the server's dollar budgets (None: no
    # price is configured, so no cost can be estimated).
    reserved_usd: float | None = None
    # A new character's first pictures: the character is made with the job, in the same
    # transaction (a refused job leaves none behind), and the job filed under it.
    new_character: NewCharacter | None = None


class JobRepository(Repository):
    """Job rows. A job this process claims (or fails, to post the notice) is held under
    its ``worker`` name with a lease (bot/storage/leases.py)."""

    def __init__(self, db: Database, worker: WorkerLease) -> None:
        super().__init__(db)
        self.worker = worker.name
        self._lease = worker.until

    async def check_room(self, job: NewJob, limits: Limits) -> None:
        """Raise the refusal ``job`` would get now, writing nothing: a cheap check before
        work that costs money or memory (``insert_job`` checks again, atomically). A read,
        so it never waits for the writer."""
        room, params = room_query(job, limits)
        refuse_unless_room(await self._db.fetch_one(room, params), job, limits)

    async def insert_job(
        self, job: NewJob, limits: Limits, *, fork_of: Character | None = None
    ) -> Job:
        """Insert ``job`` if it fits every cap and quota, atomically; return it as stored.

        Counting and inserting happen in one write transaction, so twenty simultaneous
        requests against a remaining quota of five accept exactly five. With ``fork_of``
        the job belongs to the member's own copy of that character, found or made in the
        same transaction: a refused request leaves no fork behind and never removes one
        that another request uses. A job with a ``new_character`` makes it the same way.
        The job comes back from the insert itself: once it is committed it is accepted, and
        no further read (which a storage fault could fail) stands between it and its member.
        """
        room, params = room_query(job, limits)
        async with self._db.transaction() as conn:
            character_id = await self._job_character(conn, job, fork_of)
            (counts,) = await conn.execute_fetchall(room, params)  # one row, always
            refuse_unless_room(counts, job, limits)
            inserted = await fetch_first(
                conn,
                "INSERT INTO jobs (guild_id, channel_id, user_id, kind, character_id,"
                " parent_image_id, request_json, image_count, reference_path, locale,"
                " application_id, interaction_token, interaction_at, created_at, reserved_usd)"
                # A parent picture deleted meanwhile is no parent (the runner falls back).
                " VALUES (?, ?, ?, ?, ?, (SELECT id FROM images WHERE id = ?),"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    job.guild_id,
                    job.channel_id,
                    job.user_id,
                    job.kind,
                    character_id,
                    job.parent_image_id,
                    json.dumps(job.request.to_json(), ensure_ascii=False),
                    job.image_count,
                    job.reference_path,
                    job.locale,
                    job.application_id,
                    job.interaction_token,
                    job.interaction_at,
                    time.time(),
                    job.reserved_usd,
                ),
            )
            assert inserted is not None
            return Job.from_row(inserted)

    @staticmethod
    async def _job_character(
        conn: Connection, job: NewJob, fork_of: Character | None
    ) -> int | None:
        """The character the job draws, still there (a fork of ``fork_of`` if given), or
        made now (the job's ``new_character``)."""
        if job.new_character is not None:
            cursor = await conn.execute(*character_insert(job.new_character))
            assert cursor.lastrowid is not None
            return int(cursor.lastrowid)
        wanted = fork_of.id if fork_of is not None else job.character_id
        if wanted is None:
            return None
        if not await conn.execute_fetchall("SELECT 1 FROM characters WHERE id = ?", (wanted,)):
            raise CharacterGone()
        if fork_of is None:
            return wanted
        fork_id, _created = await find_or_create_fork(conn, fork_of, job.user_id)
        return fork_id

    async def get(self, job_id: int) -> Job | None:
        row = await self._db.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(row) if row else None

    async def pending(self) -> list[Job]:
        """Every queued or running job, oldest first: what the queue rebuilds from."""
        rows = await self._db.fetch_all(
            "SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY id"
        )
        return [Job.from_row(r) for r in rows]

    async def running_ids(self) -> list[int]:
        """Jobs this worker holds as running: the reconciler checks each has someone working
        on it (another process's running jobs are that process's to check)."""
        rows = await self._db.fetch_all(
            "SELECT id FROM jobs WHERE state = 'running' AND worker = ? ORDER BY id",
            (self.worker,),
        )
        return [int(row[0]) for row in rows]

    async def mark_running(
        self,
        job_id: int,
        within: SharedLimits | None = None,
        *,
        prompt: str | None = None,
        model: str | None = None,
    ) -> bool:
        """Claim a queued job for drawing: True for the one caller that moved it from queued
        to running; False if it was cancelled, failed or already claimed (a second worker
        or process trying the same job must not draw, and pay for, it again), or if
        ``within`` the limits all processes share there is no room now. The claimer holds
        the job under a lease from now on. The claim notes the prompt and model about to be
        sent (in the same write: in a burst, every write waits for SQLite's one writer)."""
        now = time.time()
        claim = (
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?,"
            " worker = ?, lease_until = ?, prompt = COALESCE(?, prompt),"
            " model = COALESCE(?, model) WHERE id = ? AND state = 'queued'"
        )
        params = (now, self.worker, self._lease(), prompt, model, job_id)
        if within is None:
            return await self._db.execute(claim, params) == 1
        async with self._db.transaction() as conn:
            # Write transactions are serial on both dialects: no other process counts
            # between this count and this claim. Spends and pauses are stamped by the
            # database's clock, so processes on hosts whose clocks disagree share one window.
            await conn.execute("DELETE FROM image_spends WHERE at < db_now() - ?", (within.window,))
            room = await fetch_first(conn, DRAW_ROOM, (within.window, job_id))
            if not within.allow(room):
                return False
            if (await conn.execute(claim, params)).rowcount != 1:
                return False
            await conn.execute(
                "INSERT INTO image_spends (at, images) VALUES (db_now(), ?)",
                (within.spend(room[2]),),
            )
            return True

    async def retry_later(self, job_id: int, not_before: float, error_code: str) -> bool:
        """Put a job this process holds back in line, not to start before ``not_before``.
        False if it is not this process's to settle (``HELD_HERE``) or ended meanwhile."""
        changed = await self._db.execute(
            "UPDATE jobs SET state = 'queued', not_before = ?, error_code = ?, worker = NULL,"
            f" lease_until = NULL WHERE id = ? AND {HELD_HERE}",
            (not_before, error_code, job_id, self.worker),
        )
        return changed == 1

    async def fail(
        self, job_id: int, error_code: str, values: dict[str, Any] | None = None
    ) -> bool:
        """Mark a pending job failed (which refunds it). False if it was no longer pending,
        or is another process's to settle (``HELD_HERE``).

        ``values`` are what the error's message needs, kept so a notice sent after a restart
        fills its placeholders.
        """
        return await self._end(
            job_id,
            # Held by this worker until the member is told (the notice is its to post).
            "UPDATE jobs SET state = 'failed', error_code = ?, error_values = ?, finished_at = ?,"
            f" worker = ?, lease_until = ? WHERE id = ? AND {HELD_HERE}",
            (
                error_code,
                json.dumps(values or {}, default=str),
                time.time(),
                self.worker,
                self._lease(),
                job_id,
                self.worker,
            ),
        )

    async def cancel(self, job_id: int) -> bool:
        """Cancel a queued job (refunding it) and forget its interaction token: nothing more
        is said about it. False if it had already started or ended."""
        return await self._end(
            job_id,
            "UPDATE jobs SET state = 'cancelled', finished_at = ?, delivered = 1,"
            " interaction_token = NULL WHERE id = ? AND state = 'queued'",
            (time.time(), job_id),
        )

    async def _end(self, job_id: int, sql: str, params: tuple[Any, ...]) -> bool:
        """End a job without pictures and drop the character it would have brought to life.

        A new character (or a fork made for a variation) exists from the moment it is asked
        for; if its only job never produced a picture, it would linger as an empty name in
        every list. Characters that were ever drawn (even if every picture was deleted
        since), or that have other jobs on the way, stay.
        """
        async with self._db.transaction() as conn:
            cursor = await conn.execute(sql, params)
            if cursor.rowcount == 0:
                return False
            await conn.execute(
                "DELETE FROM characters WHERE id = (SELECT character_id FROM jobs WHERE id = ?)"
                " AND drawn = 0"
                " AND NOT EXISTS (SELECT 1 FROM images WHERE images.character_id = characters.id)"
                " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.character_id = characters.id"
                "                 AND jobs.state IN ('queued', 'running'))",
                (job_id,),
            )
            return True

    async def unused_reference(self, job_id: int) -> str | None:
        """The member's uploaded reference of an ended job, if nothing else will read it.

        A re-roll reuses the reference of the job it repeats, so the file stays while any
        other job that is waiting, running or done (and so may be re-rolled) names it.
        """
        value = await self._db.fetch_value(
            "SELECT j.reference_path FROM jobs j WHERE j.id = ?"
            " AND j.state IN ('failed', 'cancelled') AND j.reference_path IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.reference_path = j.reference_path"
            "                 AND o.id != j.id AND o.state IN ('queued', 'running', 'done'))",
            (job_id,),
        )
        return str(value) if value is not None else None

    async def mark_delivered(
        self, job_id: int, message_id: int | None, *, keep_token: bool = False
    ) -> None:
        """The member has their answer. Its interaction token goes in the same write (nothing
        needs it any more), unless ``keep_token``: a notice still to send uses it."""
        token = "interaction_token" if keep_token else "NULL"
        await self._db.execute(
            f"UPDATE jobs SET delivered = 1, interaction_token = {token},"
            " response_message_id = COALESCE(?, response_message_id) WHERE id = ?",
            (message_id, job_id),
        )

    async def set_response_message(self, job_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE jobs SET response_message_id = ? WHERE id = ?", (message_id, job_id)
        )

    async def recent_durations(self, limit: int = 20) -> list[float]:
        """Seconds the latest successful jobs took to run, for honest ETAs."""
        rows = await self._db.fetch_all(
            "SELECT finished_at - started_at FROM jobs WHERE state = 'done'"
            " AND started_at IS NOT NULL AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [float(r[0]) for r in rows if r[0] is not None and r[0] >= 0]

    async def pending_for_guild(self, guild_id: int) -> list[Job]:
        rows = await self._db.fetch_all(
            "SELECT * FROM jobs WHERE guild_id = ? AND state IN ('queued', 'running') ORDER BY id",
            (guild_id,),
        )
        return [Job.from_row(r) for r in rows]

    async def raise_reservation(self, job_id: int, usd: float) -> None:
        """Reserve at least ``usd`` for a job still waiting (never less than before)."""
        reserved = await self._db.fetch_value(
            "SELECT reserved_usd FROM jobs WHERE id = ?", (job_id,)
        )
        if reserved is not None and float(reserved) >= usd:
            return  # the usual case, read without waiting for the one writer
        await self._db.execute(
            "UPDATE jobs SET reserved_usd = ? WHERE id = ? AND state = 'queued'"
            " AND (reserved_usd IS NULL OR reserved_usd < ?)",
            (usd, job_id, usd),
        )

    async def note_maybe_billed(self, job_id: int) -> None:
        """An attempt timed out after reaching OpenAI: count its estimate as possibly billed."""
        await self._db.execute(
            "UPDATE jobs SET maybe_billed_usd = maybe_billed_usd + COALESCE(reserved_usd, 0)"
            " WHERE id = ?",
            (job_id,),
        )

    async def forget_token(self, job_id: int) -> None:
        """Drop the interaction token once the job is delivered or settled.

        A live token can post as the bot in the member's channel for 15 minutes; nothing
        needs it after the last word on the job, so it is not kept in the database.
        """
        await self._db.execute("UPDATE jobs SET interaction_token = NULL WHERE id = ?", (job_id,))
