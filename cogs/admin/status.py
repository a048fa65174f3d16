"""/status: the bot's health, this server's queue, spend and storage (admins), or the whole
bot's (its owner, ``BOT_OWNER_ID``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotAllowed
from cogs._shared.choices import localised_choices
from cogs._shared.context import services, tr
from cogs._shared.options import Option, command, options
from cogs._shared.reply import acknowledge, reply
from cogs.admin.checks import admin_only, require_admin
from cogs.admin.status_views import status_embed

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["StatusCog"]

SCOPE = Option("scope", "This server, or the whole bot (its owner only)", key="admin.status_scope")
SCOPE_CHOICES = localised_choices(
    "status.choice_{value}", {"server": "This server", "bot": "The whole bot (owner)"}
)


class StatusCog(commands.Cog):
    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot

    @command(
        "status", "Admins: the bot's health, this server's queue, spend and storage", key="status"
    )
    @admin_only
    @options(scope=SCOPE)
    @app_commands.choices(scope=SCOPE_CHOICES)
    async def status(self, interaction: discord.Interaction, scope: str = "server") -> None:
        svc = services(interaction)
        owner = svc.settings.bot_owner_id
        is_owner = owner is not None and interaction.user.id == owner
        whole_bot = scope == "bot"
        # The owner may look at any server and at the whole bot; admins at their server.
        if not is_owner:
            require_admin(interaction)
            if whole_bot:
                raise NotAllowed("error.status_not_allowed")
        await acknowledge(interaction)
        now = time.time()
        report = await svc.status.report(interaction.guild_id or 0, whole_bot=whole_bot, now=now)
        guild = interaction.guild
        title = (
            tr(interaction, "status.title_bot", count=len(self.bot.guilds))
            if whole_bot
            else tr(interaction, "status.title_server", server=guild.name if guild else "")
        )
        embed = status_embed(interaction, report, title=title, latency=self.bot.latency, now=now)
        await reply(interaction, embed=embed, ephemeral=True)
