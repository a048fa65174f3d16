"""What the quota service reports: the limits that apply to a member, their windows, and
everything ``/quota show`` tells them. Plain values, no behaviour beyond arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.records import QuotaLimit

__all__ = ["EffectiveLimits", "QuotaStatus", "QuotaWindow", "SavedLimit", "Source"]

Source = Literal["exempt", "member", "role", "default"]


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
