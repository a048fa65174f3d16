"""Whether a new job fits: the caps on waiting jobs, the picture quotas and the dollar
budgets, every count read by one statement; and whether a job may start drawing within the
limits several processes share.

One statement rather than one per limit: each statement is a trip to the database's thread
(SQLite) or server (PostgreSQL), and ``insert_job`` counts inside the write transaction that
every submission in the bot waits for, so its trips are paid by twenty members at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from bot.errors import BudgetReached, ImageQuotaReached, PendingCapReached

if TYPE_CHECKING:
    from bot.storage.jobs import NewJob

__all__ = [
    "COMMITTED_USD",
    "COUNTED",
    "DRAWING_PAUSED_UNTIL",
    "DRAW_ROOM",
    "USD_ROUNDING",
    "Limits",
    "SharedLimits",
    "refuse_unless_room",
    "room_query",
]

Window = Literal["hourly", "daily", "server"]
Period = Literal["daily", "monthly"]

# Images that count against a quota: everything still pending, and what was delivered.
# Failed and cancelled jobs fall out of this sum, which is what refunds them.
COUNTED = "(state IN ('queued', 'running') OR (state = 'done' AND charged = 1))"
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
_PENDING = "state IN ('queued', 'running')"


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

    def quotas(self) -> tuple[tuple[Window, int | None, float, float | None, bool], ...]:
        """(window, limit, since, until, counted per member) for each picture quota."""
        return (
            ("hourly", self.member_hourly, self.hour_start, self.hour_end, True),
            ("daily", self.member_daily, self.day_start, self.day_end, True),
            ("server", self.server_daily, self.day_start, self.day_end, False),
        )

    def budgets(self) -> tuple[tuple[Period, float | None, float, float | None], ...]:
        """(period, dollars, since, until) for each dollar budget."""
        return (
            ("daily", self.server_daily_usd, self.day_start, self.day_end),
            ("monthly", self.server_monthly_usd, self.month_start, self.month_end),
        )


def room_query(job: NewJob, limits: Limits) -> tuple[str, list[Any]]:
    """One SELECT of every count ``refuse_unless_room`` needs, in its order, and its
    parameters. Limits that are not set are not counted."""
    member = [job.guild_id, job.user_id]
    counts: list[tuple[str, list[Any]]] = [
        (f"SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND user_id = ? AND {_PENDING}", member),
        (f"SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND {_PENDING}", [job.guild_id]),
    ]
    for _window, limit, since, _until, per_member in limits.quotas():
        if limit is not None:
            sql = f"SELECT SUM(image_count) FROM jobs WHERE guild_id = ? AND {COUNTED}"
            sql += " AND created_at >= ?" + (" AND user_id = ?" if per_member else "")
            params = [job.guild_id, since] + ([job.user_id] if per_member else [])
            counts.append((sql, params))
    for _period, budget, since, _until in limits.budgets():
        if budget is not None:
            sql = f"SELECT {COMMITTED_USD} FROM jobs WHERE guild_id = ? AND created_at >= ?"
            counts.append((sql, [job.guild_id, since]))
    select = "SELECT " + ", ".join(f"({sql})" for sql, _ in counts)
    return select, [value for _, params in counts for value in params]


def refuse_unless_room(counts: Sequence[Any], job: NewJob, limits: Limits) -> None:
    """Raise the first cap, picture quota or dollar budget ``job`` does not fit, if any, from
    the row ``room_query`` read. The checks run in the order a member should hear them."""
    values = iter(counts)
    member_pending = int(next(values) or 0)
    if member_pending >= limits.member_pending_cap:
        raise PendingCapReached(whose="member", cap=limits.member_pending_cap)
    guild_pending = int(next(values) or 0)
    if guild_pending >= limits.guild_pending_cap:
        raise PendingCapReached(whose="guild", cap=limits.guild_pending_cap)
    for window, limit, _since, until, _per_member in limits.quotas():
        if limit is None:
            continue
        used = int(next(values) or 0)
        if used + job.image_count > limit:
            raise ImageQuotaReached(
                window=window, limit=limit, used=used, count=job.image_count, resets=until
            )
    for period, budget, since, until in limits.budgets():
        if budget is None:
            continue
        spent = float(next(values) or 0.0)
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


@dataclass(frozen=True, slots=True)
class SharedLimits:
    """Room to draw that every process sharing the database counts together: the jobs
    running at once, and the pictures sent to OpenAI in a sliding window (the account's
    rate limit is one, however many processes spend it)."""

    max_running: int
    per_minute: int
    # The window's length, as the in-process limiter counts it (bot/jobs/limiter.py).
    window: float = 61.0

    def has_room(self, running: int, spent: int, images: int) -> bool:
        return running < self.max_running and spent + self.spend(images) <= self.per_minute

    def spend(self, images: int) -> int:
        """What a job of ``images`` pictures counts (one larger than the budget still runs)."""
        return min(images, self.per_minute)

    def allow(self, room: Sequence[Any] | None) -> TypeGuard[Sequence[Any]]:
        """Whether the row ``DRAW_ROOM`` read lets its job start now: a slot and pictures
        to spare, and nobody pausing (another process heard a 429). (A row that does, is.)"""
        if room is None or room[2] is None or not self.has_room(*room[:3]):
            return False
        return room[3] is None or float(room[3]) <= float(room[4])


# A pause every process keeps (a 429's retry-after, an account out of credit), in meta, by
# the database's clock like the spends: hosts whose clocks disagree still agree on these.
DRAWING_PAUSED_UNTIL = "drawing_paused_until"
# Jobs running anywhere, pictures sent within the window (the last ``?`` seconds), the job's
# size, until when everyone pauses, and the database's time now.
DRAW_ROOM = (
    "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'running'),"
    " (SELECT COALESCE(SUM(images), 0) FROM image_spends WHERE at > db_now() - ?),"
    " (SELECT image_count FROM jobs WHERE id = ?),"
    f" (SELECT value FROM meta WHERE key = '{DRAWING_PAUSED_UNTIL}'), db_now()"
)
