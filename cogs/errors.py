"""Central error handling for every slash command and component.

Expected errors (ours) become short, private, localized messages. Anything else is logged
with the command, member and guild, and the member gets an apology with a reference code,
never a traceback.
"""

from __future__ import annotations

from discord.ext import commands

from cogs._shared.errors import handle_interaction_error


class ErrorHandling(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = handle_interaction_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandling(bot))
