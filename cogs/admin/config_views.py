"""The /config embed: every server setting on one card."""

from __future__ import annotations

import discord

from bot.images.styles import DEFAULT_SIZE, DEFAULT_STYLE
from bot.records import GuildConfig
from cogs._shared.context import tr
from cogs.admin.embeds import COLOUR, add_field, whole_lines

__all__ = ["config_embed"]


def _channels(interaction: discord.Interaction, config: GuildConfig) -> str:
    if not config.allowed_channels:
        return tr(interaction, "config.channels_anywhere")
    guild = interaction.guild
    mentions = []
    for channel_id in config.allowed_channels:
        gone = guild is not None and guild.get_channel(channel_id) is None
        key = "config.channel_gone" if gone else "config.channel"
        mentions.append(tr(interaction, key, channel=f"<#{channel_id}>", id=channel_id))
    return whole_lines(
        mentions, 1024, lambda hidden: tr(interaction, "config.channels_more", count=hidden)
    )


def config_embed(
    interaction: discord.Interaction, config: GuildConfig, retention_days: int | None
) -> discord.Embed:
    style = config.default_style or DEFAULT_STYLE
    size = config.default_size or DEFAULT_SIZE
    defaults = tr(
        interaction,
        "config.defaults",
        style=tr(interaction, f"style.{style}"),
        size=tr(interaction, f"size.{size}"),
        count=config.max_count,
    )
    gallery = "config.gallery_public" if config.gallery_public else "config.gallery_private"
    alerts = (
        f"<#{config.alert_channel_id}>"
        if config.alert_channel_id is not None
        else tr(interaction, "config.alerts_off")
    )
    retention = (
        tr(interaction, "status.retention_on", days=retention_days)
        if retention_days
        else tr(interaction, "status.retention_off")
    )
    # (catalog key of the field's name, its value, inline), in the order admins read them.
    fields = [
        ("config.field_channels", _channels(interaction, config), False),
        ("config.field_defaults", defaults, False),
        ("config.field_tier", tr(interaction, f"config.tier_{config.model_tier}"), True),
        ("config.field_forks", _yes_no(interaction, config.allow_forks), True),
        ("config.field_emoji", config.favorite_emoji, True),
        ("config.field_gallery", tr(interaction, gallery), True),
        ("config.field_alerts", alerts, True),
        ("scene.config.field", tr(interaction, f"scene.config.mode_{config.scenes}"), True),
        ("config.field_retention", retention, False),
    ]
    embed = discord.Embed(title=tr(interaction, "config.title"), colour=COLOUR)
    for key, value, inline in fields:
        add_field(embed, interaction, key, value, inline=inline)
    embed.set_footer(text=tr(interaction, "config.footer"))
    return embed


def _yes_no(interaction: discord.Interaction, value: bool) -> str:
    return tr(interaction, "config.yes" if value else "config.no")
