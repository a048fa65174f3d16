"""Job rows: atomic insertion against quotas and caps, state changes, queue reads."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.errors import BudgetReached, CharacterGone, ImageQuotaReached, PendingCapReached
from bot.records import Character, Job, JobKind, JobRequest
from bot.storage.characters import find_or_create_fork
from bot.storage.database import Connection, Database

__all__ = ["JobRepository", "Limits", "NewJob"]

Window = Literal["hourly", "daily", "server"]
Period = Literal["daily", "monthly"]

# Images that count against a quota: everything still pending, and what was delivered.
# Failed and cancelled jobs fall out of this sum, which is what refunds them.
_COUNTED = "(state IN ('queued', 'running') OR (state = 'done' AND charged = 1))"
# Dollar sums are floats: three $0.10 jobs add up to $0.30000000000000004. A job that fits
# a budget exactly must not be refused by rounding (a millionth of a cent is below any price).
USD_ROUNDING = 1e-9
# Dollars that count against a budget: what waiting and running jobs reserved (their
# estimate), and what delivered jobs measurably cost. Failed and cancelled jobs release.
COMMITTED_USD = (
    "SUM(CASE WHEN state IN ('queued', 'running') THEN COALESCE(reserved_usd, 0)"
    " WHEN state = 'done' AND charged = 1 THEN COALESCE(cost_usd, 0) ELSE 0 END"
    # Attempts that timed out may have been billed, whatever became of the job.
    " + maybe_billed_usd)"
)


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


@dataclass(frozen=True, slots=True)
class Limits:
    """What a submission must fit in; ``None`` means no limit of that kind."""

    member_pending_cap: int
    guild_pending_cap: int
    member_daily: int | None
    member_hourly: int | None
    server_daily: int | None
    day_start: float
    hour_start: float
    # When the windows end, so a refusal can say when to come back (None: not said).
    day_end: float | None = None
    hour_end: float | None = None
    # Estimated-dollar budgets for the whole server. Spend is what delivered jobs cost by
    # the price table; jobs without a price add nothing, so no cost is ever guessed.
    server_daily_usd: float | None = None
    server_monthly_usd: float | None = None
    month_start: float = 0.0
    month_end: float | None = None


class JobRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_job(
        self, job: NewJob, limits: Limits, *, fork_of: Character | None = None
    ) -> int:
        """Insert ``job`` if it fits every cap and quota, atomically; return its id.

        Counting and inserting happen in one write transaction, so twenty simultaneous
        requests against a remaining quota of five accept exactly five. With ``fork_of``
        the job belongs to the member's own copy of that character, found or made in the
        same transaction: a refused request leaves no fork behind and never removes one
        that another request uses.
        """
        return await self._insert_if_room(job, limits, fork_of=fork_of, dry_run=False)

    async def check_room(self, job: NewJob, limits: Limits) -> None:
        """Raise the refusal ``job`` would get now, writing nothing: a cheap check before
        work that costs money or memory (``insert_job`` checks again, atomically)."""
        await self._insert_if_room(job, limits, fork_of=None, dry_run=True)

    async def _insert_if_room(
        self, job: NewJob, limits: Limits, *, fork_of: Character | None, dry_run: bool
    ) -> int:
        # One transaction counts and inserts (see insert_job); a dry run only counts.
        async with self._db.transaction() as conn:
            character_id = None if dry_run else await self._job_character(conn, job, fork_of)
            await _refuse_if_full(conn, job, limits)
            if dry_run:
                return 0
            cursor = await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, user_id, kind, character_id,"
                " parent_image_id, request_json, image_count, reference_path, locale,"
                " application_id, interaction_token, interaction_at, created_at, reserved_usd)"
                # A parent picture deleted meanwhile is no parent (the runner falls back).
                " VALUES (?, ?, ?, ?, ?, (SELECT id FROM images WHERE id = ?),"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    @staticmethod
    async def _job_character(
        conn: Connection, job: NewJob, fork_of: Character | None
    ) -> int | None:
        """The character the job draws, still there (a fork of ``fork_of`` if given)."""
        wanted = fork_of.id if fork_of is not None else job.character_id
        if wanted is None:
            return None
        async with conn.execute("SELECT 1 FROM characters WHERE id = ?", (wanted,)) as cursor:
            if await cursor.fetchone() is None:
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

    async def undelivered(self) -> list[Job]:
        """Finished jobs whose result message was never confirmed (a crash in between)."""
        rows = await self._db.fetch_all(
            "SELECT * FROM jobs WHERE state IN ('done', 'failed') AND delivered = 0 ORDER BY id"
        )
        return [Job.from_row(r) for r in rows]

    async def running_ids(self) -> list[int]:
        """Jobs marked running: the reconciler checks each has someone working on it."""
        rows = await self._db.fetch_all("SELECT id FROM jobs WHERE state = 'running' ORDER BY id")
        return [int(row[0]) for row in rows]

    async def requeue_running(self) -> int:
        """At start-up: jobs a previous process left running go back in the queue."""
        return await self._db.execute("UPDATE jobs SET state = 'queued' WHERE state = 'running'")

    async def mark_running(self, job_id: int) -> None:
        await self._db.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?"
            " WHERE id = ? AND state = 'queued'",
            (time.time(), job_id),
        )

    async def retry_later(self, job_id: int, not_before: float, error_code: str) -> None:
        await self._db.execute(
            "UPDATE jobs SET state = 'queued', not_before = ?, error_code = ? WHERE id = ?",
            (not_before, error_code, job_id),
        )

    async def record_prompt(self, job_id: int, prompt: str, model: str) -> None:
        await self._db.execute(
            "UPDATE jobs SET prompt = ?, model = ? WHERE id = ?", (prompt, model, job_id)
        )

    async def fail(
        self, job_id: int, error_code: str, values: dict[str, Any] | None = None
    ) -> bool:
        """Mark a pending job failed (which refunds it). False if it was no longer pending.

        ``values`` are what the error's message needs, kept so a notice sent after a restart
        fills its placeholders.
        """
        return await self._end(
            job_id,
            "UPDATE jobs SET state = 'failed', error_code = ?, error_values = ?, finished_at = ?"
            " WHERE id = ? AND state IN ('queued', 'running')",
            (error_code, json.dumps(values or {}, default=str), time.time(), job_id),
        )

    async def cancel(self, job_id: int) -> bool:
        """Cancel a queued job (refunding it). False if it had already started or ended."""
        return await self._end(
            job_id,
            "UPDATE jobs SET state = 'cancelled', finished_at = ?, delivered = 1"
            " WHERE id = ? AND state = 'queued'",
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

    async def mark_delivered(self, job_id: int, message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE jobs SET delivered = 1,"
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


async def _scalar(conn: Connection, sql: str, *params: Any) -> int:
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return int(row[0] or 0) if row else 0


async def _refuse_if_full(conn: Connection, job: NewJob, limits: Limits) -> None:
    """Raise the first cap, picture quota or dollar budget ``job`` does not fit, if any.

    Inside the caller's write transaction, so the counts cannot change before the insert.
    The checks run in the order a member should hear about them.
    """
    await _refuse_if_queue_full(conn, job, limits)
    await _refuse_if_over_quota(conn, job, limits)
    await _refuse_if_over_budget(conn, job, limits)


async def _refuse_if_queue_full(conn: Connection, job: NewJob, limits: Limits) -> None:
    member_pending = await _scalar(
        conn,
        "SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND user_id = ?"
        " AND state IN ('queued', 'running')",
        job.guild_id,
        job.user_id,
    )
    if member_pending >= limits.member_pending_cap:
        raise PendingCapReached(whose="member", cap=limits.member_pending_cap)
    guild_pending = await _scalar(
        conn,
        "SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND state IN ('queued', 'running')",
        job.guild_id,
    )
    if guild_pending >= limits.guild_pending_cap:
        raise PendingCapReached(whose="guild", cap=limits.guild_pending_cap)


async def _refuse_if_over_quota(conn: Connection, job: NewJob, limits: Limits) -> None:
    quotas: tuple[tuple[Window, int | None, float, float | None, bool], ...] = (
        ("hourly", limits.member_hourly, limits.hour_start, limits.hour_end, True),
        ("daily", limits.member_daily, limits.day_start, limits.day_end, True),
        ("server", limits.server_daily, limits.day_start, limits.day_end, False),
    )
    for window, limit, since, until, per_member in quotas:
        if limit is None:
            continue
        sql = (
            f"SELECT SUM(image_count) FROM jobs WHERE guild_id = ? AND {_COUNTED}"
            " AND created_at >= ?"
        )
        params: list[Any] = [job.guild_id, since]
        if per_member:
            sql += " AND user_id = ?"
            params.append(job.user_id)
        used = await _scalar(conn, sql, *params)
        if used + job.image_count > limit:
            raise ImageQuotaReached(
                window=window, limit=limit, used=used, count=job.image_count, resets=until
            )


async def _refuse_if_over_budget(conn: Connection, job: NewJob, limits: Limits) -> None:
    budgets: tuple[tuple[Period, float | None, float, float | None], ...] = (
        ("daily", limits.server_daily_usd, limits.day_start, limits.day_end),
        ("monthly", limits.server_monthly_usd, limits.month_start, limits.month_end),
    )
    for period, budget, since, until in budgets:
        if budget is None:
            continue
        async with conn.execute(
            f"SELECT {COMMITTED_USD} FROM jobs WHERE guild_id = ? AND created_at >= ?",
            (job.guild_id, since),
        ) as cursor:
            row = await cursor.fetchone()
        spent = float(row[0] or 0.0) if row else 0.0
        resets = until if until is not None else since + 86_400
        if spent >= budget - USD_ROUNDING:
            raise BudgetReached(period=period, budget=budget, spent=spent, resets=resets)
        # Reserved and settled spend plus this job's estimate must fit: a burst can
        # overshoot only by how far a measured cost exceeds its estimate.
        estimate = job.reserved_usd or 0.0
        if spent + estimate > budget + USD_ROUNDING:
            raise BudgetReached(
                period=period, budget=budget, spent=spent, resets=resets, estimate=estimate
            )
