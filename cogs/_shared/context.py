"""Reading what the core needs out of an interaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.i18n import resolve_locale
from bot.jobs.submit import Requester

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["ServicedBot", "bot_of", "locale_of", "requester", "services", "tr"]


class ServicedBot(commands.AutoShardedBot):
    """The bot as the Discord layer sees it: discord.py's bot holding the core's services.

    bot/app.py's ``CharacterBot`` is one. Cogs name this class, not the composition root, so
    the layers import in one direction only.
    """

    services: Services


def bot_of(interaction: discord.Interaction) -> ServicedBot:
    return interaction.client  # type: ignore[return-value]


def services(interaction: discord.Interaction) -> Services:
    return bot_of(interaction).services


def locale_of(interaction: discord.Interaction) -> str:
    """The member's client language, then the server's, then English."""
    guild_locale = str(interaction.guild_locale) if interaction.guild_locale else None
    return resolve_locale(str(interaction.locale), guild_locale)


def tr(interaction: discord.Interaction, key: str, /, **values: Any) -> str:
    """A message in the member's language; member text in ``values`` is escaped."""
    return services(interaction).catalog.t(locale_of(interaction), key, **values)


def tr_plain(interaction: discord.Interaction, key: str, /, **values: Any) -> str:
    """The same for labels, autocomplete and modal titles, which show no markdown."""
    return services(interaction).catalog.plain(locale_of(interaction), key, **values)


def is_admin(interaction: discord.Interaction) -> bool:
    """Checked at run time: a server can override Discord's default command permissions."""
    member = interaction.user
    return isinstance(member, discord.Member) and member.guild_permissions.manage_guild


def requester(interaction: discord.Interaction) -> Requester:
    member = interaction.user
    role_ids = [role.id for role in member.roles] if isinstance(member, discord.Member) else []
    return Requester(
        guild_id=interaction.guild_id or 0,
        channel_id=interaction.channel_id or 0,
        user_id=member.id,
        role_ids=role_ids,
        locale=locale_of(interaction),
        is_admin=is_admin(interaction),
        application_id=interaction.application_id,
        interaction_token=interaction.token,
        interaction_at=interaction.created_at.timestamp(),
    )
