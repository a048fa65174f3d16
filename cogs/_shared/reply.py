"""The one reply path: initial response, followup, or (once the token died) a channel post."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.errors import BotError
from cogs._shared.context import locale_of, services

__all__ = ["error_text", "reply", "reply_error"]

log = logging.getLogger(__name__)


async def reply(
    interaction: discord.Interaction,
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    files: list[discord.File] | None = None,
    ephemeral: bool = False,
) -> None:
    kwargs: dict[str, Any] = {"content": content, "ephemeral": ephemeral}
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if files:
        kwargs["files"] = files
    if not interaction.response.is_done():
        await interaction.response.send_message(**kwargs)
        return
    if not interaction.is_expired():
        try:
            await interaction.followup.send(**kwargs)
            return
        except discord.NotFound:
            pass  # the token died in between: fall through to the channel
    channel = interaction.channel
    if ephemeral or not isinstance(channel, discord.abc.Messageable):
        return  # nobody else should see a private answer; dropping it is right
    kwargs.pop("ephemeral")
    await channel.send(**kwargs)


def error_text(interaction: discord.Interaction, error: BotError) -> str:
    catalog = services(interaction).catalog
    return catalog.t(locale_of(interaction), error.message_key, **error.values)


async def reply_error(interaction: discord.Interaction, error: BotError) -> None:
    """A friendly, private explanation. If a public 'thinking…' message exists, remove it."""
    text = error_text(interaction, error)
    thinking = interaction.response.type == discord.InteractionResponseType.deferred_channel_message
    if thinking and not interaction.is_expired():
        # The "thinking…" message would otherwise stay; remove it, answer privately. (After a
        # component's plain defer the original is the message the button sits on: keep it.)
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("No deferred message to remove")
    await reply(interaction, content=text, ephemeral=True)
