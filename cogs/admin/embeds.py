"""What the admin embeds (/config, /quota, /status, /usage) share: colour, money, fields."""

from __future__ import annotations

import discord

from cogs._shared.context import tr

__all__ = ["COLOUR", "add_field", "money"]

COLOUR = discord.Colour.from_rgb(255, 138, 171)


def money(value: float) -> str:
    return f"${value:,.2f}"


def add_field(
    embed: discord.Embed,
    interaction: discord.Interaction,
    name_key: str,
    value: str,
    *,
    inline: bool,
) -> None:
    """A field named by a catalog key, within Discord's limits (256 and 1,024 characters)."""
    embed.add_field(name=tr(interaction, name_key)[:256], value=value[:1024], inline=inline)
