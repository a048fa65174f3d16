"""Removing the bot's own picture messages after their pictures were deleted."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

from bot.ops.background import start_beside

__all__ = ["remove_messages_later"]

log = logging.getLogger(__name__)

_running: set[asyncio.Task[None]] = set()


def remove_messages_later(client: discord.Client, messages: list[tuple[int, int]]) -> None:
    """Delete ``(channel_id, message_id)`` messages in the background.

    Many deletions take a while under Discord's rate limits; the member already has
    their answer. Messages already gone or in channels the bot lost access to are skipped.
    """
    if not messages:
        return
    start_beside(_remove(client, list(messages)), _running)


async def _remove(client: discord.Client, messages: list[tuple[int, int]]) -> None:
    removed = 0
    for channel_id, message_id in messages:
        channel = client.get_partial_messageable(channel_id)
        try:
            await channel.get_partial_message(message_id).delete()
            removed += 1
        except (discord.NotFound, discord.Forbidden):
            continue
        except discord.HTTPException as exc:
            log.warning("Could not delete message %s (%s)", message_id, exc.status)
        except aiohttp.ClientError as exc:
            if client.is_closed():  # shut down mid-way: those messages stay, as after a crash
                log.info("Removing picture messages interrupted by shutdown")
                return
            log.warning("Could not delete message %s (%s)", message_id, exc)
    log.info("Removed %d of %d picture messages", removed, len(messages))
