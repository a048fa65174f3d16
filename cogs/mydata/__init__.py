"""/mydata: a member's own data, exported as zip files or erased."""

from __future__ import annotations

from discord.ext import commands

from cogs.mydata.cog import MyDataCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(MyDataCog(bot))
