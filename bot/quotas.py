"""Who may generate how much: the limits a submission is checked against.

Reservation happens in the storage layer (one transaction counts and inserts); this module
only decides which limits apply to a member right now, and when their windows reset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.storage import Limits, Storage

__all__ = ["QuotaService", "QuotaWindow"]


@dataclass(frozen=True, slots=True)
class QuotaWindow:
    day_start: float
    day_end: float
    hour_start: float


class QuotaService:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._storage = storage
        self._settings = settings
        self._zone = ZoneInfo(settings.quota_timezone)

    def window(self, now: float) -> QuotaWindow:
        """The current day (midnight to midnight in the configured zone) and hour."""
        local = dt.datetime.fromtimestamp(now, self._zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        next_midnight = (midnight + dt.timedelta(days=1, hours=2)).replace(hour=0)
        hour = local.replace(minute=0, second=0, microsecond=0)
        return QuotaWindow(midnight.timestamp(), next_midnight.timestamp(), hour.timestamp())

    def exempt(self, user_id: int) -> bool:
        s = self._settings
        return (
            s.owner_exempt_from_quota and s.bot_owner_id is not None and user_id == s.bot_owner_id
        )

    async def limits_for(
        self, guild_id: int, user_id: int, role_ids: list[int], now: float
    ) -> Limits:
        window = self.window(now)
        settings = self._settings
        if self.exempt(user_id):
            return Limits(
                member_pending_cap=settings.member_pending_cap,
                guild_pending_cap=settings.guild_pending_cap,
                member_daily=None,
                member_hourly=None,
                server_daily=None,
                day_start=window.day_start,
                hour_start=window.hour_start,
            )
        return Limits(
            member_pending_cap=settings.member_pending_cap,
            guild_pending_cap=settings.guild_pending_cap,
            member_daily=settings.default_daily_quota,
            member_hourly=None,
            server_daily=None,
            day_start=window.day_start,
            hour_start=window.hour_start,
        )
