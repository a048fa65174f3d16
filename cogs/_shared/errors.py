"""Turning any exception from a command or component into the right message."""

from __future__ import annotations

import logging
import uuid

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BotError, NotAllowed, UserInputError
from bot.faults import storage_unavailable
from cogs._shared.reply import reply_error

__all__ = ["handle_interaction_error"]

log = logging.getLogger(__name__)


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    return error


async def handle_interaction_error(interaction: discord.Interaction, error: BaseException) -> None:
    error = unwrap(error)
    if isinstance(error, app_commands.CheckFailure):
        error = NotAllowed("error.not_allowed")
    elif isinstance(error, app_commands.TransformerError):
        # An option Discord resolved to something we can't use (an uncached channel or role).
        error = UserInputError("error.bad_input")
    if interaction.client.is_closed():
        # Shutting down: the HTTP session is gone, so this handler's failure says nothing
        # about the bot, and nobody can be answered any more.
        log.info(
            "Interaction %s interrupted by shutdown (%s)", interaction.id, type(error).__name__
        )
        return
    command = interaction.command.qualified_name if interaction.command else "component"
    if (unavailable := storage_unavailable(error)) is not None:
        # The host's fault, not a bug to look up by reference: one line, no traceback.
        log.warning("Storage failed under %s (%s: %s)", command, type(error).__name__, error)
        error = unavailable
    elif not isinstance(error, BotError):
        reference = uuid.uuid4().hex[:8]
        log.error(
            "Unexpected error in %s (reference %s, user %s, guild %s)",
            command,
            reference,
            interaction.user.id,
            interaction.guild_id,
            exc_info=error,
        )
        error = BotError("error.unexpected", reference=reference)
    try:
        await reply_error(interaction, error)
    except (discord.HTTPException, aiohttp.ClientError):
        if interaction.client.is_closed():  # shut down while answering: nothing to report
            log.info("Interaction %s: answer interrupted by shutdown", interaction.id)
            return
        log.warning("Could not tell the member about an error", exc_info=True)
