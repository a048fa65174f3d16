"""Embeds for /quota and /quota-admin: what a member has left, and the limits admins set."""

from __future__ import annotations

import discord

from bot.quota_status import QuotaStatus
from bot.records import QuotaLimit
from cogs._shared.context import services, tr
from cogs.admin.embeds import COLOUR, add_field, money

__all__ = ["describe_limit", "limits_embed", "status_embed"]

_MAX_LINES = 40


def describe_limit(interaction: discord.Interaction, row: QuotaLimit) -> str:
    """A limit in one line, e.g. "10 a day · 2 an hour · 4 waiting"."""
    parts = []
    if row.daily_limit is not None:
        parts.append(tr(interaction, "quota.part_daily", n=row.daily_limit))
    elif row.scope != "server":
        parts.append(tr(interaction, "quota.part_daily_unlimited"))
    if row.hourly_limit is not None:
        parts.append(tr(interaction, "quota.part_hourly", n=row.hourly_limit))
    if row.pending_cap is not None:
        parts.append(tr(interaction, "quota.part_pending", n=row.pending_cap))
    if row.daily_usd is not None:
        parts.append(tr(interaction, "quota.part_usd_daily", amount=money(row.daily_usd)))
    if row.monthly_usd is not None:
        parts.append(tr(interaction, "quota.part_usd_monthly", amount=money(row.monthly_usd)))
    return " · ".join(parts) or tr(interaction, "quota.part_none")


def _source(interaction: discord.Interaction, status: QuotaStatus) -> str:
    limits = status.limits
    if limits.source == "role":
        return tr(interaction, "quota.source_role", role=f"<@&{limits.role_id}>")
    return tr(interaction, f"quota.source_{limits.source}")


def status_embed(
    interaction: discord.Interaction,
    member: discord.Member,
    status: QuotaStatus,
    *,
    show_costs: bool,
) -> discord.Embed:
    limits = status.limits
    window = status.window
    embed = discord.Embed(
        title=tr(interaction, "quota.title", name=member.display_name), colour=COLOUR
    )
    _count_field(
        embed,
        interaction,
        "today",
        status.used_today,
        limits.member_daily,
        left=status.left_today,
        resets=int(window.day_end),
    )
    if limits.member_hourly is not None:
        _count_field(
            embed,
            interaction,
            "hour",
            status.used_this_hour,
            limits.member_hourly,
            left=status.left_this_hour,
            resets=int(window.hour_end),
        )
    cap = limits.member_pending_cap
    pending = tr(interaction, "quota.pending", pending=status.pending, cap=cap)
    add_field(embed, interaction, "quota.field_pending", pending, inline=True)
    add_field(embed, interaction, "quota.field_source", _source(interaction, status), inline=True)
    _count_field(
        embed,
        interaction,
        "server",
        status.server_used_today,
        limits.server_daily,
        left=status.server_left_today,
    )
    if show_costs:
        add_field(embed, interaction, "quota.field_cost", _costs(interaction, status), inline=False)
    return embed


def _count_field(
    embed: discord.Embed,
    interaction: discord.Interaction,
    name: str,
    used: int,
    limit: int | None,
    **details: int | None,
) -> None:
    """A full-width field ``quota.field_<name>``: "used of limit, N left" by ``quota.<name>``,
    or ``quota.<name>_unlimited`` (just what was used)."""
    if limit is None:
        text = tr(interaction, f"quota.{name}_unlimited", used=used)
    else:
        text = tr(interaction, f"quota.{name}", used=used, limit=limit, **details)
    add_field(embed, interaction, f"quota.field_{name}", text, inline=False)


def _costs(interaction: discord.Interaction, status: QuotaStatus) -> str:
    limits = status.limits
    if status.spent_today_usd is None or status.spent_month_usd is None:
        return tr(interaction, "quota.cost_unknown")
    lines = [
        tr(
            interaction,
            "quota.cost_today",
            spent=money(status.spent_today_usd),
            budget=_budget(interaction, limits.server_daily_usd),
        ),
        tr(
            interaction,
            "quota.cost_month",
            spent=money(status.spent_month_usd),
            budget=_budget(interaction, limits.server_monthly_usd),
        ),
    ]
    if status.unpriced_today:
        lines.append(tr(interaction, "quota.cost_unpriced", count=status.unpriced_today))
    return "\n".join(lines)


def _budget(interaction: discord.Interaction, usd: float | None) -> str:
    return money(usd) if usd is not None else tr(interaction, "quota.no_budget")


def limits_embed(interaction: discord.Interaction, rows: list[QuotaLimit]) -> discord.Embed:
    """Every limit set in the server, with the defaults that apply where none is set."""
    settings = services(interaction).settings
    embed = discord.Embed(title=tr(interaction, "quota.list_title"), colour=COLOUR)
    lines = [
        tr(
            interaction,
            "quota.list_default",
            daily=settings.default_daily_quota,
            pending=settings.member_pending_cap,
        )
    ]
    for row in rows:
        summary = describe_limit(interaction, row)
        if row.scope == "server":
            lines.insert(0, tr(interaction, "quota.list_server", limit=summary))
        elif row.scope == "role":
            lines.append(
                tr(interaction, "quota.list_role", role=f"<@&{row.target_id}>", limit=summary)
            )
        else:
            lines.append(
                tr(interaction, "quota.list_member", user=f"<@{row.target_id}>", limit=summary)
            )
    if len(lines) > _MAX_LINES:
        hidden = len(lines) - _MAX_LINES
        lines = [*lines[:_MAX_LINES], tr(interaction, "quota.list_more", count=hidden)]
    embed.description = "\n".join(lines)[:4096]
    embed.set_footer(text=tr(interaction, "quota.list_footer"))
    return embed
