"""Usage reports: pictures, tokens and estimated cost per day, and who made the most.

Days are calendar days in ``QUOTA_TIMEZONE`` (the same days quotas reset on). Only delivered
work counts (failed and cancelled jobs were refunded). A cost is an estimate from the
recorded token usage and ``PRICE_TABLE``; where a model had no price the cost is *unknown*
and reported as such (an empty CSV cell, "unknown" in Discord), never guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.storage import Storage
from bot.storage.quotas import MemberTotals

__all__ = ["PERIODS", "UsageDay", "UsageReport", "UsageService", "days_csv", "members_csv"]

# Report lengths offered to admins, in days.
PERIODS = (7, 30, 90)
# 15 minutes: every time zone in use today is offset from UTC by a multiple of this,
# so local midnight always falls on a bucket edge.
_BUCKET_SECONDS = 900


@dataclass(frozen=True, slots=True)
class UsageDay:
    day: dt.date
    images: int
    input_tokens: int
    output_tokens: int
    priced_cost_usd: float  # the cost of the priced images only
    unpriced_images: int  # images whose cost is unknown (no price for their model)

    @property
    def cost_usd(self) -> float | None:
        """The day's estimated cost; None when some of its images have no price."""
        return None if self.unpriced_images else self.priced_cost_usd

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class UsageReport:
    guild_id: int
    zone: str
    first_day: dt.date
    last_day: dt.date
    days: list[UsageDay]  # every day of the period, oldest first, zero days included
    members: list[MemberTotals]  # most pictures first

    @property
    def total(self) -> UsageDay:
        return UsageDay(
            day=self.last_day,
            images=sum(d.images for d in self.days),
            input_tokens=sum(d.input_tokens for d in self.days),
            output_tokens=sum(d.output_tokens for d in self.days),
            priced_cost_usd=sum(d.priced_cost_usd for d in self.days),
            unpriced_images=sum(d.unpriced_images for d in self.days),
        )


class UsageService:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._storage = storage
        self._zone_name = settings.quota_timezone
        self._zone = ZoneInfo(settings.quota_timezone)

    def midnight(self, day: dt.date) -> float:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self._zone).timestamp()

    async def report(
        self, guild_id: int, days: int, now: float, *, members: int = 1000
    ) -> UsageReport:
        """The last ``days`` calendar days up to and including today, and up to ``members``
        members, most pictures first."""
        if days < 1:
            raise ValueError("a report covers at least one day")
        today = dt.datetime.fromtimestamp(now, self._zone).date()
        first = today - dt.timedelta(days=days - 1)
        since = self.midnight(first)
        until = self.midnight(today + dt.timedelta(days=1))
        quotas = self._storage.quotas
        buckets = await quotas.usage_buckets(guild_id, since, until, bucket_seconds=_BUCKET_SECONDS)
        totals: dict[dt.date, list[float]] = {
            first + dt.timedelta(days=i): [0, 0, 0, 0.0, 0] for i in range(days)
        }
        for bucket in buckets:
            day = dt.datetime.fromtimestamp(bucket.start, self._zone).date()
            row = totals.get(day)
            if row is None:  # cannot happen with aligned buckets; never invent a day
                continue
            row[0] += bucket.images
            row[1] += bucket.input_tokens
            row[2] += bucket.output_tokens
            row[3] += bucket.cost_usd
            row[4] += bucket.unpriced_images
        report_days = [
            UsageDay(day, int(v[0]), int(v[1]), int(v[2]), float(v[3]), int(v[4]))
            for day, v in sorted(totals.items())
        ]
        ranked = await quotas.top_members(guild_id, since, until, limit=members)
        return UsageReport(guild_id, self._zone_name, first, today, report_days, ranked)


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def days_csv(report: UsageReport) -> bytes:
    """One row per day, and a total. An unknown cost is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            f"date ({report.zone})",
            "images",
            "input_tokens",
            "output_tokens",
            "estimated_cost_usd",
            "images_without_price",
        ]
    )
    for day in report.days:
        writer.writerow(
            [
                day.day.isoformat(),
                day.images,
                day.input_tokens,
                day.output_tokens,
                _money(day.cost_usd),
                day.unpriced_images,
            ]
        )
    total = report.total
    writer.writerow(
        [
            "total",
            total.images,
            total.input_tokens,
            total.output_tokens,
            _money(total.cost_usd),
            total.unpriced_images,
        ]
    )
    # A byte-order mark lets spreadsheet programs read the file as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def members_csv(report: UsageReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "user_id",
            "images",
            "input_tokens",
            "output_tokens",
            "estimated_cost_usd",
            "images_without_price",
        ]
    )
    for member in report.members:
        cost = None if member.unpriced_images else member.cost_usd
        writer.writerow(
            [
                member.user_id,
                member.images,
                member.input_tokens,
                member.output_tokens,
                _money(cost),
                member.unpriced_images,
            ]
        )
    return out.getvalue().encode("utf-8-sig")
