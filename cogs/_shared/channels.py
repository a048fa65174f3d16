"""Allowed channels, enforced in one place for every slash command.

``allowed_here`` refuses, before any command runs, a command used outside the server's
allowed channels, with a private pointer to the right ones. The command tree
(``cogs/_shared/tree.py``) calls it as its ``interaction_check``, so every cog's commands are
covered, including ones added later. Buttons and selects never pass through the tree:
buttons under pictures that were already posted keep working everywhere.

Exempt: admin commands (those Discord hides behind Manage Server), so an admin can never be
locked out, for example after the only allowed channel was deleted; autocomplete, which
only suggests; and channels that no longer exist are ignored (if none is left, commands work
anywhere again).
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.errors import NotAllowed
from cogs._shared.context import services
from cogs._shared.reply import reply_error

__all__ = ["allowed_here"]

log = logging.getLogger(__name__)

# Enough channel mentions to find one; a longer list would not help a member.
_MAX_POINTERS = 10


def _is_admin_command(interaction: discord.Interaction) -> bool:
    command = interaction.command
    if command is None:
        return False
    root: Any = command
    while getattr(root, "parent", None) is not None:
        root = root.parent
    permissions = getattr(root, "default_permissions", None)
    return isinstance(permissions, discord.Permissions) and permissions.manage_guild


def _where(interaction: discord.Interaction) -> set[int]:
    """The channel, and for a thread also its parent: a thread inherits its channel's rule."""
    ids = {interaction.channel_id} if interaction.channel_id else set()
    channel = interaction.channel
    if isinstance(channel, discord.Thread) and channel.parent_id:
        ids.add(channel.parent_id)
    return ids


async def allowed_here(interaction: discord.Interaction) -> bool:
    """True if the command may run here; otherwise the member is told where, and False."""
    guild = interaction.guild
    if guild is None or interaction.type is not discord.InteractionType.application_command:
        return True
    if _is_admin_command(interaction):
        return True
    config = await services(interaction).guild_settings.config(guild.id)
    if not config.allowed_channels:
        return True
    existing = [cid for cid in config.allowed_channels if guild.get_channel(cid) is not None]
    if not existing:
        log.warning("Guild %s allows only channels that no longer exist; allowing all", guild.id)
        return True
    if _where(interaction) & set(existing):
        return True
    pointers = ", ".join(f"<#{cid}>" for cid in existing[:_MAX_POINTERS])
    await reply_error(interaction, NotAllowed("error.wrong_channel", channels=pointers))
    return False
