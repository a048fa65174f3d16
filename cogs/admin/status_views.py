"""The /status embed: one glance at the bot's health, queue, spend and storage."""

from __future__ import annotations

import math

import discord

from bot.i18n import format_number
from bot.status import Spend, StatusReport
from cogs._shared.context import locale_of, tr
from cogs.admin.embeds import COLOUR, add_field, money

__all__ = ["status_embed"]

_KINDS = ("busy", "rate_limited", "billing", "config", "refused", "failed")


def _when(timestamp: float) -> str:
    """A Discord timestamp: each reader sees it in their own language and time zone."""
    return f"<t:{int(timestamp)}:R>"


def _size(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"  # pragma: no cover - the loop always returns


def _openai(interaction: discord.Interaction, report: StatusReport, now: float) -> str:
    health = report.openai
    lines = []
    if report.paused_seconds > 0:
        key = "status.paused_billing" if report.billing_paused else "status.paused"
        lines.append(tr(interaction, key, when=_when(now + report.paused_seconds)))
    if health.errors:
        kinds = ", ".join(
            tr(
                interaction,
                "status.kind_count",
                kind=tr(interaction, f"status.kind_{kind}"),
                count=health.errors[kind],
            )
            for kind in _KINDS
            if health.errors.get(kind)
        )
        rate = format_number(100 * health.error_rate, locale_of(interaction))
        lines.append(
            tr(interaction, "status.openai_errors", rate=rate, count=health.calls, kinds=kinds)
        )
    elif health.calls:
        lines.append(tr(interaction, "status.openai_ok"))
    else:
        lines.append(tr(interaction, "status.openai_idle"))
    if health.last_success is not None:
        lines.append(tr(interaction, "status.last_success", when=_when(health.last_success)))
    else:
        lines.append(tr(interaction, "status.no_success"))
    return "\n".join(lines)


def _today(interaction: discord.Interaction, report: Spend) -> str:
    count = report.pictures_today
    if report.pictures_today_limit is not None:
        lines = [
            tr(interaction, "status.pictures_of", count=count, limit=report.pictures_today_limit)
        ]
    else:
        lines = [tr(interaction, "status.pictures", count=count)]
    if report.spent_today_usd is None:
        lines.append(tr(interaction, "status.spend_unknown"))
        return "\n".join(lines)
    for spent, budget, of_key, key in (
        (report.spent_today_usd, report.budget_today_usd, "status.spend_of", "status.spend"),
        (
            report.spent_month_usd or 0.0,
            report.budget_month_usd,
            "status.spend_month_of",
            "status.spend_month",
        ),
    ):
        if budget is not None:
            lines.append(tr(interaction, of_key, spent=money(spent), budget=money(budget)))
        else:
            lines.append(tr(interaction, key, spent=money(spent)))
    return "\n".join(lines)


def status_embed(
    interaction: discord.Interaction,
    report: StatusReport,
    *,
    title: str,
    latency: float,
    now: float,
) -> discord.Embed:
    latency_text = (
        tr(interaction, "status.latency_ms", ms=round(latency * 1000))
        if math.isfinite(latency)
        else tr(interaction, "status.latency_unknown")
    )
    embed = discord.Embed(
        title=title[:256],
        description=tr(
            interaction,
            "status.summary",
            version=report.version,
            started=_when(now - report.uptime_seconds),
            latency=latency_text,
        ),
        colour=COLOUR,
    )
    queue = report.queue
    add_field(
        embed,
        interaction,
        "status.field_queue",
        tr(
            interaction,
            "status.queue",
            waiting=queue.waiting,
            running=queue.running,
            failed=queue.failed,
        ),
        inline=False,
    )
    add_field(
        embed,
        interaction,
        "status.field_rate",
        tr(
            interaction,
            "status.rate",
            used=report.images_last_minute,
            budget=report.images_per_minute,
        ),
        inline=True,
    )
    add_field(
        embed, interaction, "status.field_today", _today(interaction, report.spend), inline=True
    )
    add_field(
        embed, interaction, "status.field_openai", _openai(interaction, report, now), inline=False
    )
    add_field(
        embed, interaction, "status.field_storage", _storage(interaction, report), inline=False
    )
    return embed


def _storage(interaction: discord.Interaction, report: StatusReport) -> str:
    storage = [
        tr(
            interaction,
            "status.storage",
            count=report.stored_pictures,
            size=_size(report.stored_bytes),
        )
    ]
    if not report.whole_bot:
        days = report.retention_days
        storage.append(
            tr(interaction, "status.retention_on", days=days)
            if days
            else tr(interaction, "status.retention_off")
        )
    return "\n".join(storage)
