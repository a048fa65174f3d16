"""Favorites by emoji reaction on any picture message the bot posted.

Raw events, so reactions count on messages posted before a restart and never cached.
One lock keeps a quick add-then-remove in the order Discord sent them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.faults import log_failure

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["FavoriteReactions"]

log = logging.getLogger(__name__)


class FavoriteReactions(commands.Cog):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot
        self._lock = asyncio.Lock()

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.member is not None and payload.member.bot:
            return
        await self._handle(payload, added=True)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        # No member on removals; a bot's removal is harmless (its add was ignored).
        await self._handle(payload, added=False)

    async def _handle(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        me = self.bot.user
        if payload.guild_id is None or me is None or payload.user_id == me.id:
            return
        if payload.message_author_id is not None and payload.message_author_id != me.id:
            return  # not our message (Discord says whose it is on adds)
        # The first await: events take the lock in the order they were dispatched.
        async with self._lock:
            try:
                changed = await self.bot.services.pictures.react(
                    guild_id=payload.guild_id,
                    message_id=payload.message_id,
                    user_id=payload.user_id,
                    emoji_id=payload.emoji.id,
                    emoji_text=str(payload.emoji),
                    added=added,
                )
            except Exception as exc:
                log_failure(
                    log,
                    exc,
                    "Could not record a favorite reaction (guild %s, message %s)",
                    payload.guild_id,
                    payload.message_id,
                )
                return
        if changed:
            log.info(
                "Favorite %s by %s on pictures %s",
                "added" if added else "removed",
                payload.user_id,
                changed,
            )
