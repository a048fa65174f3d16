"""What the bot needs in a channel before it takes a job there."""

from __future__ import annotations

import discord

from bot.errors import NotAllowed
from cogs._shared.context import tr

__all__ = ["require_picture_permissions"]

# Pictures are attachments inside embeds; a job that outlives its interaction (15 min) is
# posted to the channel directly, which needs Send Messages too.
_NEEDED = ("send_messages", "embed_links", "attach_files")


def require_picture_permissions(interaction: discord.Interaction) -> None:
    """Refuse early, naming the missing permissions, rather than fail after paying OpenAI."""
    permissions = interaction.app_permissions
    missing = [name for name in _NEEDED if not getattr(permissions, name)]
    if missing:
        names = ", ".join(tr(interaction, f"permission.{name}") for name in missing)
        raise NotAllowed("error.bot_missing_permissions", permissions=names)
