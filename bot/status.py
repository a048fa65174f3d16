"""What ``/status`` tells an admin about their server, or the bot owner about the whole bot.

Plain values gathered from the queue, the rate limiter, OpenAI's recent answers, the quota
service and the storage; the cog renders them. Nothing here is Discord UI.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bot.images.store import ImageStore
from bot.jobs.failures import BILLING_PAUSE_SECONDS
from bot.jobs.limiter import WINDOW, RateLimiter
from bot.ops.cockpit import Cockpit
from bot.ops.openai_watch import OpenAIReport
from bot.quotas import QuotaService
from bot.storage import Storage
from bot.storage.operations import QueueCounts

__all__ = ["Spend", "StatusReport", "StatusService", "bot_version"]

DAY = 86_400.0


def bot_version() -> str:
    try:
        return metadata.version("anime-character-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def _bytes_of(store: ImageStore, files: list[str]) -> int:
    total = 0
    for relative in files:
        try:
            total += Path(store.path(relative)).stat().st_size
        except (OSError, ValueError):
            continue
    return total


@dataclass(frozen=True, slots=True)
class Spend:
    """Today's pictures and spend, against the server's limits (None: no limit)."""

    pictures_today: int
    pictures_today_limit: int | None
    spent_today_usd: float | None  # None: no PRICE_TABLE, costs unknown
    budget_today_usd: float | None
    spent_month_usd: float | None
    budget_month_usd: float | None


@dataclass(frozen=True, slots=True)
class StatusReport:
    whole_bot: bool  # the owner's view: every server together
    version: str
    uptime_seconds: float
    queue: QueueCounts
    images_last_minute: int
    images_per_minute: int
    openai: OpenAIReport
    paused_seconds: float  # nobody calls OpenAI for this long (a 429 or billing)
    billing_paused: bool  # ...because OpenAI said insufficient_quota
    spend: Spend
    stored_pictures: int
    stored_bytes: int
    retention_days: int | None


@dataclass(frozen=True, slots=True)
class StatusService:
    storage: Storage
    store: ImageStore
    limiter: RateLimiter
    quotas: QuotaService
    cockpit: Cockpit

    async def report(
        self, guild_id: int, *, whole_bot: bool, now: float | None = None
    ) -> StatusReport:
        """The server's status, or (``whole_bot``) every server's together."""
        now = time.time() if now is None else now
        scope = None if whole_bot else guild_id
        operations = self.storage.operations
        count, files = await operations.picture_files(scope)
        openai = self.cockpit.openai_health.report()
        paused = max(self.limiter.paused_for(), await self._shared_pause())
        billing = openai.billing_error_at
        return StatusReport(
            whole_bot=whole_bot,
            version=bot_version(),
            uptime_seconds=now - self.cockpit.started_at,
            queue=await operations.queue_counts(scope, now - DAY),
            images_last_minute=await self._images_last_minute(),
            images_per_minute=self.limiter.budget,
            openai=openai,
            paused_seconds=paused,
            # The pause a billing answer starts outlasts every retry-after OpenAI sends.
            billing_paused=paused > 0
            and billing is not None
            and billing > now - BILLING_PAUSE_SECONDS,
            spend=await (self._bot_spend(now) if whole_bot else self._server_spend(guild_id, now)),
            stored_pictures=count,
            stored_bytes=await asyncio.to_thread(_bytes_of, self.store, files),
            retention_days=None if whole_bot else await operations.retention_days(guild_id),
        )

    async def _shared_pause(self) -> float:
        """The pause every process sharing the database keeps (a 429 or an empty account
        another process heard: this one learns of it only when it next starts a job)."""
        if not self.cockpit.settings.shares_queue:
            return 0.0  # alone, this process's limiter knows every pause
        return await self.storage.meta.drawing_paused_for()

    async def _images_last_minute(self) -> int:
        """Pictures sent in the last minute: by every process sharing the database (which
        count their claims there), or by this one alone (which counts none there)."""
        everywhere = await self.storage.leases.spent_within(WINDOW)
        return max(self.limiter.used_last_minute(), sum(images for _, images in everywhere))

    async def _server_spend(self, guild_id: int, now: float) -> Spend:
        status = await self.quotas.status(guild_id, 0, [], now)
        return Spend(
            pictures_today=status.server_used_today,
            pictures_today_limit=status.limits.server_daily,
            spent_today_usd=status.spent_today_usd,
            budget_today_usd=status.limits.server_daily_usd,
            spent_month_usd=status.spent_month_usd,
            budget_month_usd=status.limits.server_monthly_usd,
        )

    async def _bot_spend(self, now: float) -> Spend:
        """Today's pictures and spend over every server (limits are per server: none here)."""
        window = self.quotas.window(now)
        quotas = self.storage.quotas
        # Three queries over every server at once, however many servers there are.
        pictures = await quotas.server_images(None, window.day_start)
        spent_today, _ = await quotas.spent_usd(None, window.day_start)
        spent_month, _ = await quotas.spent_usd(None, window.month_start)
        known = self.quotas.prices_known()
        return Spend(
            pictures_today=pictures,
            pictures_today_limit=None,
            spent_today_usd=spent_today if known else None,
            budget_today_usd=None,
            spent_month_usd=spent_month if known else None,
            budget_month_usd=None,
        )
