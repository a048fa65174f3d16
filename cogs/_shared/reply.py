"""The one reply path: initial response, followup, or (once the token died) a channel post.

Discord's rule that shapes it ("Create Followup Message"): right after a deferred
"thinking…" response, a followup *functions as Edit Original* and its ephemeral flag is
ignored. So a private answer after a public defer must first resolve the placeholder (edit
it), then send the private followup (now a new message), and only then remove the
placeholder. Deleting the placeholder first makes the followup edit a deleted message
(404 10008) and the member sees nothing (discord-api-docs #3087).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from bot.errors import BotError
from cogs._shared.context import locale_of, services, tr

__all__ = ["acknowledge", "answer_privately", "error_text", "reply", "reply_error"]

log = logging.getLogger(__name__)

# discord.py addresses the interaction's original response by this id.
ORIGINAL = "@original"


async def _placeholder(webhook: discord.Webhook) -> discord.WebhookMessage | None:
    """The original response if it is still the untouched "thinking…" placeholder."""
    try:
        original = await webhook.fetch_message(ORIGINAL)  # type: ignore[arg-type]
    except (discord.HTTPException, aiohttp.ClientError):
        return None
    return original if original.flags.loading else None


async def answer_privately(
    webhook: discord.Webhook, *, resolving: str, placeholder: bool, **message: Any
) -> bool:
    """Tell the member ``message`` (``webhook.send`` fields) privately, over a public original.

    ``placeholder``: the original is (or may be) the public "thinking…" message or a job's
    status message, which goes away once the private answer exists. ``resolving`` is the
    neutral text it shows for that moment. False if the private answer could not be sent
    (the caller then decides where else to say it).
    """
    if placeholder:
        # Resolve it first, so the followup below is a new (private) message, not an edit.
        try:
            await webhook.edit_message(  # type: ignore[call-overload]
                ORIGINAL, content=resolving, embeds=[], attachments=[], view=None
            )
        except (discord.HTTPException, aiohttp.ClientError):
            log.info("Could not resolve the original response before a private answer")
            return False
    try:
        await webhook.send(**{**message, "ephemeral": True})
    except (discord.HTTPException, aiohttp.ClientError):
        log.info("A private answer could not be sent")
        return False
    if placeholder:
        try:
            await webhook.delete_message(ORIGINAL)  # type: ignore[arg-type]
        except (discord.HTTPException, aiohttp.ClientError):
            log.debug("The resolved original response was already gone")
    return True


async def acknowledge(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Answer Discord's 3 s deadline with a "thinking…" placeholder, before any write.

    A write waits for SQLite's lock (up to busy_timeout, 5 s) when the database is busy; a
    command that writes first would then miss the deadline and the member would see
    "The application did not respond". ``reply`` fills the placeholder afterwards.
    """
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)


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
            if await _fill_placeholder(interaction, kwargs):
                return
            await interaction.followup.send(**kwargs)
            return
        except discord.NotFound:
            pass  # the token died in between: fall through to the channel
    channel = interaction.channel
    if ephemeral or not isinstance(channel, discord.abc.Messageable):
        return  # nobody else should see a private answer; dropping it is right
    kwargs.pop("ephemeral")
    await channel.send(**kwargs)


async def _fill_placeholder(interaction: discord.Interaction, kwargs: dict[str, Any]) -> bool:
    """After a "thinking…" defer, answer in (or over) the placeholder; False if there is none.

    A followup would edit the placeholder anyway, ignoring its ephemeral flag: so a public
    answer, or any answer over a private placeholder, is an edit; a private answer over a
    public placeholder is a new private message, after which the placeholder goes.
    """
    if interaction.response.type != discord.InteractionResponseType.deferred_channel_message:
        return False
    original = await _placeholder(interaction.followup)
    if original is None:
        return False  # already resolved (or gone): a followup is a new message
    if kwargs["ephemeral"] and not original.flags.ephemeral:
        resolving = tr(interaction, "reply.answered_privately")
        if await answer_privately(
            interaction.followup, resolving=resolving, placeholder=True, **kwargs
        ):
            return True
        # Could not answer privately: saying it in the member's own message beats silence.
    edit: dict[str, Any] = {"content": kwargs["content"]}
    if "embed" in kwargs:
        edit["embed"] = kwargs["embed"]
    if "view" in kwargs:
        edit["view"] = kwargs["view"]
    if "files" in kwargs:
        edit["attachments"] = kwargs["files"]
    await interaction.edit_original_response(**edit)
    return True


def error_text(interaction: discord.Interaction, error: BotError) -> str:
    catalog = services(interaction).catalog
    return catalog.t(locale_of(interaction), error.message_key, **error.values)


async def reply_error(interaction: discord.Interaction, error: BotError) -> None:
    """A friendly, private explanation; a public "thinking…" placeholder goes away after it."""
    await reply(interaction, content=error_text(interaction, error), ephemeral=True)
