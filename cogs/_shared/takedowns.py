"""Deleting one of the bot's messages for the core's takedowns (bot/takedowns.py)."""

from __future__ import annotations

import aiohttp
import discord

from bot.takedowns import TakedownOutcome

__all__ = ["DiscordMessageRemover"]


class DiscordMessageRemover:
    """Deletes a message by its ids, whether or not discord.py has it cached."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def remove(self, channel_id: int, message_id: int) -> TakedownOutcome:
        channel = self._client.get_partial_messageable(channel_id)
        try:
            await channel.get_partial_message(message_id).delete()
        except discord.NotFound:  # the message, or its whole channel, is gone already
            return TakedownOutcome.GONE
        except discord.Forbidden:
            return TakedownOutcome.REFUSED
        # A Discord error or a rate limit longer than the client waits, the network failing,
        # or the bot shutting down mid-way: the message stays queued for another try.
        except (discord.DiscordException, aiohttp.ClientError, TimeoutError):
            return TakedownOutcome.FAILED
        return TakedownOutcome.GONE
