"""The /character command group."""

from __future__ import annotations

from discord.ext import commands

from cogs.character.cog import CharacterCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(CharacterCog(bot))
