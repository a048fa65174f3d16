"""The one reply path: every way the bot answers a member.

Slash commands and components answer through ``reply`` (initial response, followup, or a
channel post once the token died); a job's messages, written long after its interaction,
go through ``JobReply`` (an edit of the member's original message through the token stored
with the job, else a channel post). Both keep the private-answer rule below.

Discord's rule that shapes it ("Create Followup Message"): right after a deferred
"thinking…" response, a followup *functions as Edit Original* and its ephemeral flag is
ignored. So a private answer after a public defer must first resolve the placeholder (edit
it), then send the private followup (now a new message), and only then remove the
placeholder. Deleting the placeholder first makes the followup edit a deleted message
(404 10008) and the member sees nothing (discord-api-docs #3087).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import aiohttp
import discord

from bot.errors import BotError, ContentRefused
from bot.records import Job
from cogs._shared.context import locale_of, services, tr

__all__ = ["JobReply", "acknowledge", "answer_privately", "error_text", "reply", "reply_error"]

log = logging.getLogger(__name__)

# discord.py addresses the interaction's original response by this id.
ORIGINAL = "@original"
# Interaction tokens live 15 minutes; stop trusting one a little before that.
TOKEN_LIFETIME = 14 * 60


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
    secret: bool = False,
) -> None:
    """``secret``: a private answer that must never be shown publicly instead (a refusal's
    reason, SECURITY.md); if Discord drops the private message, it goes by direct message."""
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
            if await _fill_placeholder(interaction, kwargs, secret=secret):
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


async def _fill_placeholder(
    interaction: discord.Interaction, kwargs: dict[str, Any], *, secret: bool = False
) -> bool:
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
        if secret:
            await _say_directly(interaction, kwargs["content"])
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


async def _say_directly(interaction: discord.Interaction, content: str) -> None:
    """A secret answer Discord would not take privately: by direct message, and the public
    placeholder says only that (or, DMs closed, that the reason stays private)."""
    try:
        await interaction.user.send(content, allowed_mentions=discord.AllowedMentions.none())
        key = "delivery.refused_late"
    except discord.HTTPException:
        key = "delivery.refused_late_no_dm"
    notice = tr(interaction, key, user=f"<@{interaction.user.id}>")
    await interaction.edit_original_response(content=notice, embeds=[], attachments=[], view=None)


def error_text(interaction: discord.Interaction, error: BotError) -> str:
    catalog = services(interaction).catalog
    return catalog.t(locale_of(interaction), error.message_key, **error.values)


async def reply_error(interaction: discord.Interaction, error: BotError) -> None:
    """A friendly, private explanation; a public "thinking…" placeholder goes away after it."""
    secret = isinstance(error, ContentRefused)
    await reply(interaction, content=error_text(interaction, error), ephemeral=True, secret=secret)


class JobReply:
    """Answering a job's member after the interaction that asked for it has returned.

    While the token stored with the job lives, the member's own message is edited (or a
    private followup sent); after that the answer is a post in the job's channel.
    """

    def __init__(self, client: discord.Client, job: Job) -> None:
        self._client = client
        self._job = job

    @property
    def token_alive(self) -> bool:
        job = self._job
        return bool(
            job.interaction_token
            and job.application_id
            and job.interaction_at
            and time.time() - job.interaction_at < TOKEN_LIFETIME
        )

    def _webhook(self) -> discord.Webhook:
        """The interaction's own webhook, as discord.py builds ``Interaction.followup``.

        It must be an application webhook (type 3): only those may send ephemeral messages.
        """
        job = self._job
        assert job.application_id and job.interaction_token
        webhook = discord.Webhook.partial(
            job.application_id, job.interaction_token, client=self._client
        )
        webhook.type = discord.WebhookType.application  # public API: an interaction's webhook
        return webhook

    async def edit_original(self, **fields: Any) -> discord.WebhookMessage | None:
        """Edit the member's message; None if the token is dead or the message is gone."""
        if not self.token_alive:
            return None
        try:
            return await self._webhook().edit_message(ORIGINAL, **fields)  # type: ignore[call-overload]
        except (discord.NotFound, discord.Forbidden) as exc:
            log.info("Job %s: cannot edit the original response (%s)", self._job.id, exc.status)
            return None
        except discord.HTTPException as exc:
            if exc.status == 401:  # 50027: the token expired early
                return None
            raise

    async def fetch_original(self) -> discord.WebhookMessage | None:
        """The member's message as it is now; None if the token is dead or it cannot be read."""
        if not self.token_alive:
            return None
        try:
            return await self._webhook().fetch_message(ORIGINAL)  # type: ignore[arg-type]
        except discord.HTTPException:
            return None

    async def privately(self, content: str, *, resolving: str) -> bool:
        """Tell the member ``content`` privately over their public status message, which goes
        away once the private answer exists. False if the token is dead or sending failed."""
        return self.token_alive and await answer_privately(
            self._webhook(), content=content, resolving=resolving, placeholder=True
        )

    async def direct(self, content: str) -> bool:
        """Tell the member in a direct message: private once the token is dead. False if
        their DMs are closed to the bot or Discord refuses."""
        try:
            dm = await self._client.create_dm(discord.Object(id=self._job.user_id))
            await dm.send(content=content, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.info("Job %s: no direct message to the member (%s)", self._job.id, exc.status)
            return False
        return True

    def channel(self) -> discord.abc.Messageable:
        """The job's channel, for answers once the token is dead."""
        job = self._job
        channel = self._client.get_channel(job.channel_id)
        if isinstance(channel, discord.abc.Messageable):
            return channel
        return self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)

    async def delete_stale(self, message_id: int | None) -> None:
        """Delete the member's status message (``message_id``) with the bot's own token, as
        the author of an interaction response may, once the interaction's token is dead: a
        "Drawing…" or "Queued" that would otherwise stay for ever. Failing is no news."""
        channel = self.channel()
        if message_id is None or not isinstance(
            channel,
            discord.TextChannel
            | discord.Thread
            | discord.VoiceChannel
            | discord.PartialMessageable,
        ):
            return
        with contextlib.suppress(discord.HTTPException):
            await channel.get_partial_message(message_id).delete()

    async def post(self, content: str | None, **fields: Any) -> discord.Message:
        """A post in the job's channel that pings nobody (the text names the member)."""
        return await self.channel().send(
            content=content, allowed_mentions=discord.AllowedMentions.none(), **fields
        )
