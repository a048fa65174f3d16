"""Members' display names, for text drawn into pictures (gallery titles, character cards)."""

from __future__ import annotations

from collections import OrderedDict

import discord

__all__ = ["display_name", "guild_display_name", "remember_name"]

_NAMES: OrderedDict[tuple[int, int], str] = OrderedDict()
_NAMES_MAX = 2048


def remember_name(guild_id: int, user_id: int, name: str) -> None:
    _NAMES[(guild_id, user_id)] = name
    _NAMES.move_to_end((guild_id, user_id))
    while len(_NAMES) > _NAMES_MAX:
        _NAMES.popitem(last=False)


async def display_name(interaction: discord.Interaction, user_id: int) -> str:
    """A member's display name for text drawn into pictures ("" if unknown).

    The bot has no member intent, so others are fetched once and remembered.
    """
    guild = interaction.guild
    if interaction.user.id == user_id:
        return interaction.user.display_name
    if guild is None:
        return ""
    return await guild_display_name(guild, user_id)


async def guild_display_name(guild: discord.Guild, user_id: int) -> str:
    """The same without an interaction (a job's post names the members in it)."""
    cached = _NAMES.get((guild.id, user_id))
    if cached is not None:
        return cached
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:
            return ""
    remember_name(guild.id, user_id, member.display_name)
    return member.display_name
