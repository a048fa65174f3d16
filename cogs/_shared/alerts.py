"""Posting to a server's admin alert channel (set with /config alerts).

Budgets (through the quota service), storage incidents and pictures Discord would not take.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from cogs._shared.context import ServicedBot

__all__ = ["AdminAlerts"]

log = logging.getLogger(__name__)


class AdminAlerts:
    """The quota service's alert sink. It decides nothing: QuotaService already made sure
    this alert goes out once per budget period."""

    def __init__(self, bot: ServicedBot) -> None:
        self.bot = bot

    async def __call__(self, guild_id: int, key: str, values: dict[str, Any]) -> None:
        services = self.bot.services
        config = await services.guild_settings.config(guild_id)
        if config.alert_channel_id is None:
            log.warning("Guild %s has no alert channel; alert %s was only logged", guild_id, key)
            return
        guild = self.bot.get_guild(guild_id)
        locale = str(guild.preferred_locale) if guild is not None else "en"
        channel = self.bot.get_partial_messageable(config.alert_channel_id, guild_id=guild_id)
        await channel.send(
            services.catalog.t(locale, key, **values),
            allowed_mentions=discord.AllowedMentions.none(),
        )
