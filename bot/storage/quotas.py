"""Admin-set limits (member, role, server) and the usage figures quotas and reports read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from bot.records import SCOPES, QuotaLimit, Scope
from bot.storage.database import Repository, guild_scope
from bot.storage.room import COMMITTED_USD, COUNTED

__all__ = [
    "MemberTotals",
    "QuotaLimit",
    "QuotaRepository",
    "Scope",
    "UsageBucket",
    "UsageNow",
]

# Delivered work: what usage reports and dollar budgets are made of.
_DELIVERED = "state = 'done' AND charged = 1"

# The sums every usage report selects after its own first column, in the order _totals
# reads them back (the aliases are what top_members orders by).
_TOTALS = (
    "SUM(image_count) AS images, SUM(input_tokens), SUM(output_tokens),"
    " SUM(COALESCE(cost_usd, 0)) AS cost,"
    " SUM(CASE WHEN cost_usd IS NULL THEN image_count ELSE 0 END)"
)


@dataclass(frozen=True, slots=True)
class UsageNow:
    """What counts against a member's quota right now (refunded jobs excluded)."""

    today: int
    this_hour: int
    pending: int


@dataclass(frozen=True, slots=True)
class UsageBucket:
    """Delivered work in one time bucket (``start`` is Unix seconds)."""

    start: float
    images: int
    input_tokens: int
    output_tokens: int
    cost_usd: float  # of the priced jobs only
    unpriced_images: int  # images whose model had no price: their cost is unknown


@dataclass(frozen=True, slots=True)
class MemberTotals:
    user_id: int
    images: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unpriced_images: int


class QuotaRepository(Repository):
    # --- limits ---------------------------------------------------------------------------

    async def limits(self, guild_id: int) -> list[QuotaLimit]:
        """Every limit set in a server (a handful of rows), server first, then roles, members."""
        rows = await self._db.fetch_all(
            "SELECT * FROM quota_limits WHERE guild_id = ?"
            " ORDER BY CASE scope WHEN 'server' THEN 0 WHEN 'role' THEN 1 ELSE 2 END, target_id",
            (guild_id,),
        )
        return [QuotaLimit.from_row(r) for r in rows]

    async def get(self, guild_id: int, scope: Scope, target_id: int) -> QuotaLimit | None:
        row = await self._db.fetch_one(
            "SELECT * FROM quota_limits WHERE guild_id = ? AND scope = ? AND target_id = ?",
            (guild_id, scope, target_id),
        )
        return QuotaLimit.from_row(row) if row else None

    async def set(self, limit: QuotaLimit, *, updated_by: int, now: float) -> None:
        """Create or replace the limit for (guild, scope, target): every column is written."""
        if limit.scope not in SCOPES:
            raise ValueError(f"unknown quota scope {limit.scope!r}")
        if (limit.scope == "server") != (limit.target_id == 0):
            raise ValueError("the server limit has target 0, and only it")
        await self._db.execute(
            "INSERT INTO quota_limits (guild_id, scope, target_id, daily_limit, hourly_limit,"
            " pending_cap, daily_usd, monthly_usd, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id, scope, target_id) DO UPDATE SET"
            " daily_limit = excluded.daily_limit, hourly_limit = excluded.hourly_limit,"
            " pending_cap = excluded.pending_cap, daily_usd = excluded.daily_usd,"
            " monthly_usd = excluded.monthly_usd, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            (
                limit.guild_id,
                limit.scope,
                limit.target_id,
                limit.daily_limit,
                limit.hourly_limit,
                limit.pending_cap,
                limit.daily_usd,
                limit.monthly_usd,
                updated_by,
                now,
            ),
        )

    async def clear(self, guild_id: int, scope: Scope, target_id: int) -> bool:
        """Remove a limit; False if there was none."""
        changed = await self._db.execute(
            "DELETE FROM quota_limits WHERE guild_id = ? AND scope = ? AND target_id = ?",
            (guild_id, scope, target_id),
        )
        return changed > 0

    # --- what counts now ------------------------------------------------------------------

    async def member_usage(
        self, guild_id: int, user_id: int, *, day_start: float, hour_start: float
    ) -> UsageNow:
        row = await self._db.fetch_one(
            "SELECT"
            f" SUM(CASE WHEN {COUNTED} AND created_at >= ? THEN image_count ELSE 0 END),"
            f" SUM(CASE WHEN {COUNTED} AND created_at >= ? THEN image_count ELSE 0 END),"
            " SUM(CASE WHEN state IN ('queued', 'running') THEN 1 ELSE 0 END)"
            " FROM jobs WHERE guild_id = ? AND user_id = ?"
            " AND (created_at >= ? OR state IN ('queued', 'running'))",
            (day_start, hour_start, guild_id, user_id, min(day_start, hour_start)),
        )
        values = [int(v or 0) for v in row] if row else [0, 0, 0]
        return UsageNow(today=values[0], this_hour=values[1], pending=values[2])

    async def server_images(self, guild_id: int | None, since: float) -> int:
        """Images counted against the server's budget since ``since`` (pending included);
        ``guild_id`` None: every server's together, in one query."""
        where, params = guild_scope(guild_id)
        value = await self._db.fetch_value(
            f"SELECT SUM(image_count) FROM jobs WHERE {where} AND {COUNTED} AND created_at >= ?",
            (*params, since),
        )
        return int(value or 0)

    async def spent_usd(self, guild_id: int | None, since: float) -> tuple[float, int]:
        """Dollars committed since ``since`` (delivered work at its measured cost, plus what
        waiting and running jobs reserved), and how many delivered images had no price
        (their cost is unknown and not included). ``guild_id`` None: every server's."""
        where, params = guild_scope(guild_id)
        row = await self._db.fetch_one(
            f"SELECT {COMMITTED_USD},"
            f" SUM(CASE WHEN {_DELIVERED} AND cost_usd IS NULL THEN image_count ELSE 0 END)"
            f" FROM jobs WHERE {where} AND created_at >= ?",
            (*params, since),
        )
        if row is None:
            return 0.0, 0
        return float(row[0] or 0.0), int(row[1] or 0)

    async def committed_usd_through(self, guild_id: int, since: float, job_id: int) -> float:
        """Committed dollars counting, of the waiting jobs, only those up to ``job_id``."""
        value = await self._db.fetch_value(
            f"SELECT {COMMITTED_USD} FROM jobs WHERE guild_id = ? AND created_at >= ?"
            " AND (state != 'queued' OR id <= ?)",
            (guild_id, since, job_id),
        )
        return float(value or 0.0)

    async def reserved_usd(self, guild_id: int, since: float) -> float:
        """Of the committed dollars, what waiting and running jobs reserved (estimates)."""
        value = await self._db.fetch_value(
            "SELECT SUM(COALESCE(reserved_usd, 0)) FROM jobs WHERE guild_id = ?"
            " AND state IN ('queued', 'running') AND created_at >= ?",
            (guild_id, since),
        )
        return float(value or 0.0)

    # --- usage reports --------------------------------------------------------------------

    async def usage_buckets(
        self, guild_id: int, since: float, until: float, *, bucket_seconds: int = 900
    ) -> list[UsageBucket]:
        """Delivered work per ``bucket_seconds`` (default 15 min, so any time zone's local
        midnight falls on a bucket edge), oldest first, empty buckets left out."""
        rows = await self._db.fetch_all(
            f"SELECT CAST(created_at / ? AS INTEGER) AS bucket, {_TOTALS}"
            f" FROM jobs WHERE guild_id = ? AND {_DELIVERED} AND created_at >= ? AND created_at < ?"
            " GROUP BY bucket ORDER BY bucket",
            (bucket_seconds, guild_id, since, until),
        )
        return [UsageBucket(start=float(r[0] * bucket_seconds), **_totals(r)) for r in rows]

    async def top_members(
        self, guild_id: int, since: float, until: float, *, limit: int = 10
    ) -> list[MemberTotals]:
        """The members who made the most pictures in the range (ties: higher cost first)."""
        rows = await self._db.fetch_all(
            f"SELECT user_id, {_TOTALS}"
            f" FROM jobs WHERE guild_id = ? AND {_DELIVERED} AND created_at >= ? AND created_at < ?"
            " GROUP BY user_id ORDER BY images DESC, cost DESC, user_id LIMIT ?",
            (guild_id, since, until, limit),
        )
        return [MemberTotals(user_id=int(r[0]), **_totals(r)) for r in rows]


class _Totals(TypedDict):
    images: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unpriced_images: int


def _totals(r: Any) -> _Totals:
    """The _TOTALS sums of a report row (columns 1 to 5; a sum over no rows is NULL)."""
    return _Totals(
        images=int(r[1] or 0),
        input_tokens=int(r[2] or 0),
        output_tokens=int(r[3] or 0),
        cost_usd=float(r[4] or 0.0),
        unpriced_images=int(r[5] or 0),
    )
