"""/usage: pictures, tokens and estimated cost per day as a chart, top members, and CSV."""

from __future__ import annotations

import asyncio
import io
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.i18n import format_number
from bot.images.render import DayUsage, render_usage_chart
from bot.usage import PERIODS, UsageReport, days_csv, members_csv
from cogs._shared.context import locale_of, services, tr, tr_plain
from cogs._shared.options import Option, command, options
from cogs.admin.checks import admin_only, require_admin
from cogs.admin.embeds import COLOUR, add_field, money

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["UsageCog", "chart_png"]

TOP_MEMBERS = 10
PERIOD_CHOICES = [
    app_commands.Choice(name=_(f"Last {days} days", key=f"usage.choice_{days}"), value=days)
    for days in PERIODS
]


def _cost(interaction: discord.Interaction, cost: float | None, unpriced: int) -> str:
    """A dollar estimate, or "unknown" (and how many pictures had no price)."""
    if cost is not None and not unpriced:
        return money(cost)
    if cost and unpriced:
        return tr(interaction, "usage.cost_partial", amount=money(cost), count=unpriced)
    return tr(interaction, "usage.cost_unknown")


def chart_png(interaction: discord.Interaction, report: UsageReport, prices_known: bool) -> bytes:
    """Render the report's chart (call through asyncio.to_thread: it is CPU work)."""
    days = [DayUsage(d.day, d.images, d.priced_cost_usd) for d in report.days]
    title_key = "usage.chart_title" if prices_known else "usage.chart_title_no_cost"
    title = tr(interaction, title_key, days=len(report.days))
    secondary = tr(interaction, "usage.chart_cost" if prices_known else "usage.chart_cost_unknown")
    return render_usage_chart(
        days if report.total.images else [],
        title=title,
        y_label=tr(interaction, "usage.chart_images"),
        x_label=tr_plain(interaction, "usage.chart_days", zone=report.zone),
        secondary_label=secondary,
        empty_text=tr(interaction, "usage.chart_empty"),
        show_cost=prices_known,
        locale=locale_of(interaction),
    )


def usage_embed(
    interaction: discord.Interaction, report: UsageReport, prices_known: bool
) -> discord.Embed:
    locale = locale_of(interaction)
    total = report.total
    embed = discord.Embed(
        title=tr(interaction, "usage.title", days=len(report.days)),
        description=tr(
            interaction,
            "usage.description",
            first=report.first_day.isoformat(),
            last=report.last_day.isoformat(),
            zone=report.zone,
        ),
        colour=COLOUR,
    )
    add_field(
        embed, interaction, "usage.field_images", format_number(total.images, locale), inline=True
    )
    add_field(
        embed,
        interaction,
        "usage.field_tokens",
        tr(
            interaction,
            "usage.tokens",
            input=format_number(total.input_tokens, locale),
            output=format_number(total.output_tokens, locale),
        ),
        inline=True,
    )
    cost = (
        _cost(interaction, total.cost_usd, total.unpriced_images)
        if prices_known
        else tr(interaction, "usage.cost_no_prices")
    )
    add_field(embed, interaction, "usage.field_cost", cost, inline=True)
    lines = []
    for rank, member in enumerate(report.members[:TOP_MEMBERS], start=1):
        member_cost = None if member.unpriced_images else member.cost_usd
        lines.append(
            tr(
                interaction,
                "usage.top_line",
                rank=rank,
                user=f"<@{member.user_id}>",
                images=format_number(member.images, locale),
                cost=_cost(interaction, member_cost, member.unpriced_images)
                if prices_known
                else tr(interaction, "usage.cost_unknown"),
            )
        )
    add_field(
        embed,
        interaction,
        "usage.field_top",
        "\n".join(lines) or tr(interaction, "usage.top_none"),
        inline=False,
    )
    embed.set_image(url="attachment://usage.png")
    embed.set_footer(text=tr(interaction, "usage.footer"))
    return embed


# This file's slash-command options, each declared once (cogs/_shared/options.py).
PERIOD = Option("period", "How far back", key="admin.period")


class UsageCog(commands.Cog):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot

    @command(
        "usage", "Admins: pictures, tokens and estimated cost per day, with a CSV", key="usage"
    )
    @admin_only
    @options(period=PERIOD)
    @app_commands.choices(period=PERIOD_CHOICES)
    async def usage(self, interaction: discord.Interaction, period: int = 30) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        days = period if period in PERIODS else 30
        svc = services(interaction)
        report = await svc.usage.report(interaction.guild_id or 0, days, time.time())
        prices_known = svc.quotas.prices_known()
        png = await asyncio.to_thread(chart_png, interaction, report, prices_known)
        stamp = report.last_day.isoformat()
        files = [
            discord.File(io.BytesIO(png), filename="usage.png"),
            discord.File(io.BytesIO(days_csv(report)), filename=f"usage-days-{stamp}.csv"),
            discord.File(io.BytesIO(members_csv(report)), filename=f"usage-members-{stamp}.csv"),
        ]
        await interaction.edit_original_response(
            embed=usage_embed(interaction, report, prices_known), attachments=files
        )
