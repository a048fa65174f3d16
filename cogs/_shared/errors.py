"""Turning any exception from a command or component into the right message."""

from __future__ import annotations

import logging
import uuid

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BotError, NotAllowed, UserInputError
from bot.faults import log_failure, storage_unavailable
from cogs._shared.reply import reply_error

__all__ = ["handle_interaction_error", "member_error", "unwrap"]

log = logging.getLogger(__name__)


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    return error


def member_error(interaction: discord.Interaction, error: BaseException) -> BotError:
    """What the member is told of ``error``, logged for the operator on the way.

    Our own errors are told as they are; storage failing is the host's fault, not a bug to
    look up by reference (one warning, no traceback); anything else is a bug, logged with its
    traceback and a reference the member can quote to an admin.
    """
    where = interaction.command.qualified_name if interaction.command else "a component"
    if (unavailable := storage_unavailable(error)) is not None:
        log_failure(log, error, "Answering %s", where)  # one warning, the host's trouble
        return unavailable
    if isinstance(error, BotError):
        return error
    reference = uuid.uuid4().hex[:8]
    log.error(
        "Unexpected error in %s (reference %s, user %s, guild %s)",
        where,
        reference,
        interaction.user.id,
        interaction.guild_id,
        exc_info=error,
    )
    return BotError("error.unexpected", reference=reference)


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
    try:
        await reply_error(interaction, member_error(interaction, error))
    except (discord.HTTPException, aiohttp.ClientError):
        if interaction.client.is_closed():  # shut down while answering: nothing to report
            log.info("Interaction %s: answer interrupted by shutdown", interaction.id)
            return
        log.warning("Could not tell the member about an error", exc_info=True)
