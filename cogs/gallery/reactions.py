"""Favorites by emoji reaction on any picture message the bot posted.

Raw events, so reactions count on messages posted before a restart and never cached.
The cog only picks the events that may count; bot/favorite_reactions.py records them in the
order Discord sent them, holding through storage faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.pictures import Reaction

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["FavoriteReactions"]


class FavoriteReactions(commands.Cog):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.member is not None and payload.member.bot:
            return
        await self._forward(payload, added=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        # No member on removals; a bot's removal is harmless (its add was ignored).
        await self._forward(payload, added=False)

    async def _forward(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        me = self.bot.user
        if payload.guild_id is None or me is None or payload.user_id == me.id:
            return
        if payload.message_author_id is not None and payload.message_author_id != me.id:
            return  # not our message (Discord says whose it is on adds)
        # No await before this one: events reach the recorder in the order they were dispatched.
        await self.bot.services.reaction_favorites.record(
            Reaction(
                guild_id=payload.guild_id,
                message_id=payload.message_id,
                user_id=payload.user_id,
                emoji_id=payload.emoji.id,
                emoji_text=str(payload.emoji),
                added=added,
            )
        )
