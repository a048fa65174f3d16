"""What the admin embeds (/config, /quota, /status, /usage) share: colour, money, fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import discord

from cogs._shared.context import tr

__all__ = ["COLOUR", "add_field", "money", "whole_lines"]

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


def whole_lines(lines: Sequence[str], limit: int, more: Callable[[int], str]) -> str:
    """``lines`` joined, as many whole ones as fit in ``limit`` characters; when some do not,
    the last line says how many were left out (``more(count)``). No line (a mention, a
    link) is ever cut in two, as a cut at ``limit`` would."""
    for shown in range(len(lines), -1, -1):
        hidden = len(lines) - shown
        text = "\n".join([*lines[:shown], *([more(hidden)] if hidden else [])])
        if len(text) <= limit:
            return text
    return more(len(lines))[:limit]
