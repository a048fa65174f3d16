"""Who may generate how much: the limits a submission is checked against.

Reservation happens in the storage layer (one transaction counts and inserts); this module
decides which limits apply to a member right now, when their windows reset, and tells
admins (once a day) when the whole server's budget is used up.

Which limit applies to a member:

* a **member override** set by an admin, if one exists, entirely;
* otherwise the **most generous of their roles** that have a limit, entirely (the highest
  daily limit; then no hourly limit, or the highest; then the highest pending cap);
* otherwise the defaults (``DEFAULT_DAILY_QUOTA`` a day, ``MEMBER_PENDING_CAP`` waiting).

The **server** row caps the whole guild: images a day, waiting jobs, and optionally an
estimated-dollar budget a day and a month. The bot owner is exempt only when configured.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.errors import QuotaExhausted, UserInputError
from bot.images.models import estimate_job_cost, price_for, quality_for_tier
from bot.quota_status import (
    EffectiveLimits,
    QuotaStatus,
    QuotaWindow,
    SavedLimit,
    dollar_budgets,
    loses_part_of,
    out_of_range,
)
from bot.records import Job, JobKind, QuotaLimit, Scope
from bot.reservations import reservation_inputs
from bot.storage import USD_ROUNDING, Limits, NewJob, Storage

__all__ = [
    "MODEL_TIERS",
    "AlertSink",
    "QuotaService",
]

log = logging.getLogger(__name__)


# Cost tiers an admin may pick in /config; the job runner maps them to model and quality.
MODEL_TIERS = ("economy", "standard", "premium")

# (guild_id, catalog key, values): how the Discord layer posts an alert to the admins.
AlertSink = Callable[[int, str, dict[str, Any]], Awaitable[None]]


class QuotaService:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self._storage = storage
        self._settings = settings
        self._zone = ZoneInfo(settings.quota_timezone)
        # Set by the Discord layer; without it budget alerts are only logged.
        self.alert_sink: AlertSink | None = None

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def window(self, now: float) -> QuotaWindow:
        """The current day (midnight to midnight in the configured zone), hour and month."""
        local = dt.datetime.fromtimestamp(now, self._zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        # Adding a day plus two hours then snapping back to 00:00 survives DST changes.
        next_midnight = (midnight + dt.timedelta(days=1, hours=2)).replace(hour=0)
        hour = local.replace(minute=0, second=0, microsecond=0)
        month = midnight.replace(day=1)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        return QuotaWindow(
            day_start=midnight.timestamp(),
            day_end=next_midnight.timestamp(),
            hour_start=hour.timestamp(),
            hour_end=hour.timestamp() + 3600,
            month_start=month.timestamp(),
            month_end=next_month.timestamp(),
        )

    def exempt(self, user_id: int) -> bool:
        s = self._settings
        return (
            s.owner_exempt_from_quota and s.bot_owner_id is not None and user_id == s.bot_owner_id
        )

    def prices_known(self) -> bool:
        """Whether any cost can be estimated at all (a price table is configured)."""
        return bool(self._settings.price_table)

    # --- the limits admins set (/quota-admin) -------------------------------------------

    async def limits(self, guild_id: int) -> list[QuotaLimit]:
        """Every limit set in this server, for /quota-admin list."""
        return await self._storage.quotas.limits(guild_id)

    async def set_limit(self, row: QuotaLimit, *, updated_by: int) -> SavedLimit:
        """Save an admin's limit; an hourly limit above the daily one is refused, and so is a
        value out of range (a negative limit, no waiting room, a budget of $0 or NaN)."""
        if out_of_range(row):
            raise UserInputError("error.bad_input")
        if (
            row.hourly_limit is not None
            and row.daily_limit is not None
            and row.hourly_limit > row.daily_limit
        ):
            raise UserInputError(
                "error.hourly_over_daily", hourly=row.hourly_limit, daily=row.daily_limit
            )
        previous = await self._storage.quotas.get(row.guild_id, row.scope, row.target_id)
        await self._storage.quotas.set(row, updated_by=updated_by, now=time.time())
        has_budget = row.daily_usd is not None or row.monthly_usd is not None
        models = dict.fromkeys((self._settings.image_model, self._settings.vary_model))
        unpriced = [m for m in models if price_for(self._settings.price_table, m) is None]
        return SavedLimit(
            row,
            unpriced_budget=has_budget and not self.prices_known(),
            replaced=previous if loses_part_of(previous, row) else None,
            unpriced_models=tuple(unpriced) if has_budget and self.prices_known() else (),
        )

    async def clear_limit(self, guild_id: int, scope: Scope, target_id: int) -> bool:
        """Remove a limit; False if there was none to remove."""
        return await self._storage.quotas.clear(guild_id, scope, target_id)

    # --- which limits apply ----------------------------------------------------------------

    async def effective(self, guild_id: int, user_id: int, role_ids: list[int]) -> EffectiveLimits:
        settings = self._settings
        rows = await self._storage.quotas.limits(guild_id)
        server = next((r for r in rows if r.scope == "server"), None)
        server_fields: dict[str, Any] = {
            "server_daily": server.daily_limit if server else None,
            "guild_pending_cap": (
                server.pending_cap
                if server and server.pending_cap is not None
                else settings.guild_pending_cap
            ),
            "server_daily_usd": server.daily_usd if server else None,
            "server_monthly_usd": server.monthly_usd if server else None,
        }
        if self.exempt(user_id):
            return EffectiveLimits(
                source="exempt",
                role_id=None,
                member_daily=None,
                member_hourly=None,
                member_pending_cap=settings.member_pending_cap,
                server_daily=None,
                guild_pending_cap=server_fields["guild_pending_cap"],
                server_daily_usd=None,
                server_monthly_usd=None,
            )
        member = next((r for r in rows if r.scope == "member" and r.target_id == user_id), None)
        if member is not None:
            return EffectiveLimits(
                source="member",
                role_id=None,
                member_daily=member.daily_limit,
                member_hourly=member.hourly_limit,
                member_pending_cap=self._pending(member),
                **server_fields,
            )
        mine = set(role_ids)
        roles = [r for r in rows if r.scope == "role" and r.target_id in mine]
        if roles:
            best = most_generous(roles, settings.member_pending_cap)
            return EffectiveLimits(
                source="role",
                role_id=best.target_id,
                member_daily=best.daily_limit,
                member_hourly=best.hourly_limit,
                member_pending_cap=self._pending(best),
                **server_fields,
            )
        return EffectiveLimits(
            source="default",
            role_id=None,
            member_daily=settings.default_daily_quota,
            member_hourly=None,
            member_pending_cap=settings.member_pending_cap,
            **server_fields,
        )

    def _pending(self, row: QuotaLimit) -> int:
        return row.pending_cap if row.pending_cap is not None else self._settings.member_pending_cap

    async def limits_for(
        self, guild_id: int, user_id: int, role_ids: list[int], now: float
    ) -> Limits:
        """The limits a new job of this member is reserved against.

        A server whose budget is already used up is refused here, with a clear message,
        and its admins are told once; the reservation itself re-checks atomically.
        """
        window = self.window(now)
        limits = await self.effective(guild_id, user_id, role_ids)
        await self._refuse_if_server_spent(guild_id, limits, window, now)
        return Limits(
            member_pending_cap=limits.member_pending_cap,
            guild_pending_cap=limits.guild_pending_cap,
            member_daily=limits.member_daily,
            member_hourly=limits.member_hourly,
            server_daily=limits.server_daily,
            day_start=window.day_start,
            hour_start=window.hour_start,
            day_end=window.day_end,
            hour_end=window.hour_end,
            server_daily_usd=limits.server_daily_usd,
            server_monthly_usd=limits.server_monthly_usd,
            month_start=window.month_start,
            month_end=window.month_end,
        )

    # --- the dollar budget: reservations ----------------------------------------------------

    async def estimate_usd(
        self, guild_id: int, *, kind: JobKind, size: str, count: int, references: int
    ) -> float | None:
        """What a job is reserved at against the server's dollar budgets (README)."""
        settings = self._settings
        # Variations and scenes are edits drawn by the consistency model (bot/jobs/runner.py).
        edits = kind in (JobKind.VARY, JobKind.SCENE)
        model = settings.vary_model if edits else settings.image_model
        config = await self._storage.guilds.config(guild_id)
        return estimate_job_cost(
            price_for(settings.price_table, model),
            quality=quality_for_tier(config.model_tier, settings.image_quality),
            size=size,
            count=count,
            references=references,
            partial_images=settings.partial_images,
        )

    async def recheck_budget(self, job: Job, now: float) -> None:
        """Before a waiting job is sent to OpenAI: does the server's budget still hold it?

        It was reserved when accepted; since then an admin may have lowered the budget, or
        pictures may have cost more than estimated. What counts is what is delivered or
        running plus what waits ahead of it (its own reservation included): when a budget
        is overrun, the latest requests give way, not the earliest. Raises the member's
        budget message if it no longer fits.
        """
        limits = await self.effective(job.guild_id, job.user_id, [])
        budgets = dollar_budgets(limits, self.window(now))
        if any(budget is not None for budget, *_ in budgets):
            await self._reserve_at_current_prices(job)
        for budget, since, until, period in budgets:
            if budget is None:
                continue
            committed = await self._storage.quotas.committed_usd_through(
                job.guild_id, since, job.id
            )
            if committed > budget + USD_ROUNDING:
                raise QuotaExhausted(
                    f"error.budget_{period}",
                    budget=f"{budget:,.2f}",
                    spent=f"{committed:,.2f}",
                    resets=int(until),
                )

    async def _reserve_at_current_prices(self, job: Job) -> None:
        """Raise ``job``'s reservation to its cost at the model tier (so quality) set now:
        an admin may have raised it since the job was accepted and estimated."""
        kind, refs = reservation_inputs(job.kind, job.request, job.reference_path)
        size, count = job.request.size, job.image_count
        usd = await self.estimate_usd(
            job.guild_id, kind=kind, size=size, count=count, references=refs
        )
        if usd is not None:
            await self._storage.jobs.raise_reservation(job.id, usd)

    async def check_room(self, job: NewJob, role_ids: list[int], now: float) -> None:
        """Raise the quota or queue-cap refusal ``job`` would get now, reserving nothing.

        For refusing early, before a download, a decode or a paid moderation call; the
        reservation itself checks again atomically.
        """
        limits = await self.limits_for(job.guild_id, job.user_id, role_ids, now)
        await self._storage.jobs.check_room(job, limits)

    async def status(
        self, guild_id: int, user_id: int, role_ids: list[int], now: float
    ) -> QuotaStatus:
        window = self.window(now)
        limits = await self.effective(guild_id, user_id, role_ids)
        quotas = self._storage.quotas
        usage = await quotas.member_usage(
            guild_id, user_id, day_start=window.day_start, hour_start=window.hour_start
        )
        server_used = await quotas.server_images(guild_id, window.day_start)
        spent_today, unpriced_today = await quotas.spent_usd(guild_id, window.day_start)
        spent_month, _ = await quotas.spent_usd(guild_id, window.month_start)
        known = self.prices_known()
        return QuotaStatus(
            limits=limits,
            window=window,
            used_today=usage.today,
            used_this_hour=usage.this_hour,
            pending=usage.pending,
            server_used_today=server_used,
            spent_today_usd=spent_today if known else None,
            spent_month_usd=spent_month if known else None,
            unpriced_today=unpriced_today,
        )

    # --- the server's budget ---------------------------------------------------------------

    async def _refuse_if_server_spent(
        self, guild_id: int, limits: EffectiveLimits, window: QuotaWindow, now: float
    ) -> None:
        quotas = self._storage.quotas
        if limits.server_daily is not None:
            used = await quotas.server_images(guild_id, window.day_start)
            if used >= limits.server_daily:
                await self._budget_reached(
                    guild_id,
                    "server_images",
                    now - window.day_start,
                    "alert.server_budget_images",
                    QuotaExhausted(
                        "error.quota_server_until",
                        limit=limits.server_daily,
                        used=used,
                        left=0,
                        count=1,
                        resets=int(window.day_end),
                    ),
                    now,
                )
        for budget, since, until, period in dollar_budgets(limits, window):
            if budget is None:
                continue
            spent, _ = await quotas.spent_usd(guild_id, since)
            if spent >= budget - USD_ROUNDING:
                values = {"budget": f"{budget:,.2f}", "spent": f"{spent:,.2f}"}
                await self._budget_reached(
                    guild_id,
                    f"server_usd_{period}",
                    now - since,
                    f"alert.server_budget_{period}",
                    QuotaExhausted(f"error.budget_{period}", resets=int(until), **values),
                    now,
                )

    async def _budget_reached(
        self,
        guild_id: int,
        kind: str,
        every: float,
        alert_key: str,
        error: QuotaExhausted,
        now: float,
    ) -> None:
        """Tell the admins (once per budget period), then refuse the member."""
        # "No alert of this kind since the period began": once a day (or month), not per job.
        if await self._storage.guilds.claim_alert(guild_id, kind, now, every=max(every, 1.0)):
            log.warning("Guild %s reached its %s budget", guild_id, kind)
            sink = self.alert_sink
            if sink is not None:
                try:
                    await sink(guild_id, alert_key, dict(error.values))
                except Exception:
                    # The member still gets their answer if the alert cannot be posted.
                    log.exception("Could not alert guild %s about its budget", guild_id)
        raise error


def most_generous(roles: list[QuotaLimit], default_pending: int = 0) -> QuotaLimit:
    """The role limit worth the most to a member, which then applies entirely: the highest
    daily limit, then no hourly limit (or the highest one), then the highest pending cap."""

    def worth(row: QuotaLimit) -> tuple[float, float, int]:
        daily = float("inf") if row.daily_limit is None else float(row.daily_limit)
        hourly = float("inf") if row.hourly_limit is None else float(row.hourly_limit)
        pending = row.pending_cap if row.pending_cap is not None else default_pending
        return daily, hourly, pending

    return max(roles, key=worth)
