"""What every persistent component (gallery pages, menus, confirmations) does alike:
refuse a press by someone else, and report a failure without touching the message."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import discord

from cogs._shared.context import tr
from cogs._shared.errors import member_error, unwrap
from cogs._shared.reply import error_text

__all__ = ["component_error", "for_owner_only", "is_ephemeral", "not_yours"]

log = logging.getLogger(__name__)


async def component_error(interaction: discord.Interaction, error: BaseException) -> None:
    """A private message about a failure, leaving the gallery message where it is.

    (The shared handler removes the deferred response, which here is the gallery itself.)
    """
    text = error_text(interaction, member_error(interaction, unwrap(error)))
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not tell the member about an error", exc_info=True)


def is_ephemeral(message: discord.Message | None) -> bool:
    return message is not None and message.flags.ephemeral


async def not_yours(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(tr(interaction, "gallery.not_yours"), ephemeral=True)


async def for_owner_only(
    interaction: discord.Interaction, owner_id: int, act: Callable[[], Awaitable[None]]
) -> None:
    """Runs ``act`` for the member the component belongs to; anyone else is told it is not
    theirs. A failure is reported privately (:func:`component_error`)."""
    if interaction.user.id != owner_id:
        await not_yours(interaction)
        return
    try:
        await act()
    except Exception as error:
        await component_error(interaction, error)
