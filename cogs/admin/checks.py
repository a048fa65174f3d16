"""Run-time checks for admin commands and the members and roles they name.

Discord hides admin commands from members (``default_permissions``, set by
:func:`admin_only`), but a server can change that in its integration settings; so every
admin command also calls :func:`require_admin` before it reads or changes anything.
"""

from __future__ import annotations

from typing import TypeVar

import discord
from discord import app_commands

from bot.errors import NotAllowed, NotFound, UserInputError
from cogs._shared.context import is_admin
from cogs._shared.reply import acknowledge

__all__ = ["AcknowledgeFirst", "admin_only", "guild_member", "guild_role", "require_admin"]

T = TypeVar("T")


def admin_only(command: T) -> T:
    """Marks an admin command, or a whole admin command group (a ``GroupCog``) for Discord:
    only in servers, and shown only to members who may manage the server. The allowed-channel
    rule spares such commands by the same mark (cogs/_shared/channels.py)."""
    return app_commands.guild_only()(app_commands.default_permissions(manage_guild=True)(command))


def require_admin(interaction: discord.Interaction) -> None:
    if interaction.guild_id is None or not is_admin(interaction):
        raise NotAllowed("error.admin_only")


class AcknowledgeFirst:
    """Mixed into an admin command group whose every subcommand answers privately and may
    write: each interaction is acknowledged before anything else (a busy database must not
    cost the 3 s)."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        await acknowledge(interaction)
        return True


def guild_member(
    interaction: discord.Interaction, member: discord.Member | discord.User
) -> discord.Member:
    """``member`` if they are a human member of this server; a clear error otherwise."""
    # A user who is not in this server resolves to a plain User, never a Member.
    if not isinstance(member, discord.Member) or member.guild.id != interaction.guild_id:
        raise NotFound("error.member_not_in_guild", user=f"<@{member.id}>")
    if member.bot:
        raise UserInputError("error.quota_bot_member", user=member.mention)
    return member


def guild_role(interaction: discord.Interaction, role: discord.Role) -> discord.Role:
    """``role`` if it belongs to this server; a clear error otherwise."""
    # discord.py builds a resolved role with the interaction's guild whatever its origin,
    # so look it up in this server's own roles instead of trusting ``role.guild``.
    guild = interaction.guild
    known = guild.get_role(role.id) if guild is not None else None
    if known is None:
        raise NotFound("error.role_other_guild")
    return known
