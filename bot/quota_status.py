"""What the quota service reports: the limits that apply to a member, their windows, and
everything ``/quota show`` tells them. Plain values, no behaviour beyond arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.records import QuotaLimit

__all__ = [
    "LIMIT_FIELDS",
    "LIMIT_RANGES",
    "EffectiveLimits",
    "QuotaStatus",
    "QuotaWindow",
    "SavedLimit",
    "Source",
    "dollar_budgets",
    "loses_part_of",
    "out_of_range",
]

Source = Literal["exempt", "member", "role", "default"]

# The parts of a limit an admin sets (QuotaLimit's fields); None is "not set".
LIMIT_FIELDS = ("daily_limit", "hourly_limit", "pending_cap", "daily_usd", "monthly_usd")

# What an admin may set, per scope (member and role alike): (lowest, highest) of each limit.
# The same ranges /quota-admin offers (cogs/admin/quota.py); a patched client that sends
# anything else is refused (``out_of_range``).
LIMIT_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "member": {"daily_limit": (0, 10_000), "hourly_limit": (0, 1_000), "pending_cap": (1, 100)},
    "server": {
        "daily_limit": (0, 1_000_000),
        "pending_cap": (1, 10_000),
        "daily_usd": (0.01, 1_000_000.0),
        "monthly_usd": (0.01, 1_000_000.0),
    },
}


def out_of_range(row: QuotaLimit) -> bool:
    """Whether a part of ``row`` is outside what an admin may set for its scope (a negative
    limit, no waiting room, a budget of $0 or NaN; a part its scope has not, set)."""
    ranges = LIMIT_RANGES["server" if row.scope == "server" else "member"]
    for name in LIMIT_FIELDS:
        value = getattr(row, name)
        low, high = ranges.get(name, (0, 0))
        # "not low <= value <= high" is also true for NaN.
        if value is not None and (name not in ranges or not low <= value <= high):
            return True
    return False


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    day_start: float
    day_end: float
    hour_start: float
    hour_end: float
    month_start: float
    month_end: float


@dataclass(frozen=True, slots=True)
class EffectiveLimits:
    """The limits that apply to one member, and where they come from."""

    source: Source
    role_id: int | None  # the role that gave the limit, when source == "role"
    member_daily: int | None
    member_hourly: int | None
    member_pending_cap: int
    server_daily: int | None
    guild_pending_cap: int
    server_daily_usd: float | None
    server_monthly_usd: float | None


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """Everything /quota show tells a member about their quota."""

    limits: EffectiveLimits
    window: QuotaWindow
    used_today: int
    used_this_hour: int
    pending: int
    server_used_today: int
    # Estimated dollars delivered work cost; ``None`` when no price is configured at all.
    spent_today_usd: float | None
    spent_month_usd: float | None
    unpriced_today: int

    @property
    def left_today(self) -> int | None:
        daily = self.limits.member_daily
        return None if daily is None else max(0, daily - self.used_today)

    @property
    def left_this_hour(self) -> int | None:
        hourly = self.limits.member_hourly
        return None if hourly is None else max(0, hourly - self.used_this_hour)

    @property
    def server_left_today(self) -> int | None:
        cap = self.limits.server_daily
        return None if cap is None else max(0, cap - self.server_used_today)


@dataclass(frozen=True, slots=True)
class SavedLimit:
    """A limit an admin saved, and whether its dollar budget can be checked at all."""

    limit: QuotaLimit
    unpriced_budget: bool  # a dollar budget set, but no price table to estimate costs with
    # With a budget set: the models the bot draws with that the table has no price for
    # (their pictures count nothing against it).
    unpriced_models: tuple[str, ...] = ()
    # The limit it replaced, when that had a part this one leaves out (a dollar budget, a
    # cap): saving replaces the whole limit, and the admin must hear what went.
    replaced: QuotaLimit | None = None


def loses_part_of(previous: QuotaLimit | None, row: QuotaLimit) -> bool:
    """Whether saving ``row`` over ``previous`` leaves out a part ``previous`` had."""
    return previous is not None and any(
        getattr(previous, name) is not None and getattr(row, name) is None for name in LIMIT_FIELDS
    )


def dollar_budgets(
    limits: EffectiveLimits, window: QuotaWindow
) -> tuple[tuple[float | None, float, float, str], ...]:
    """(budget, window start, window end, period) for the server's daily and monthly budgets."""
    return (
        (limits.server_daily_usd, window.day_start, window.day_end, "daily"),
        (limits.server_monthly_usd, window.month_start, window.month_end, "monthly"),
    )
