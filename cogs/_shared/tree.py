"""The command tree: the one place every slash command passes before and after it runs.

It owns two rules that hold for every command, whichever extension adds it: the server's
allowed channels (``interaction_check``, see ``cogs/_shared/channels.py``) and turning any
error into the member's answer (``on_error``, see ``cogs/_shared/errors.py``). ``bot/app.py``
passes it to the bot as ``tree_cls``, so no extension has to patch the tree when it loads.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.faults import log_failure
from cogs._shared.channels import allowed_here
from cogs._shared.errors import handle_interaction_error

__all__ = ["CharacterTree"]

log = logging.getLogger(__name__)


class CharacterTree(app_commands.CommandTree[discord.Client]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        try:
            return await allowed_here(interaction)
        except Exception as exc:
            # A broken check must not take every command down: log it and let it through.
            log_failure(log, exc, "The allowed-channel check failed; letting the command run")
            return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await handle_interaction_error(interaction, error)
