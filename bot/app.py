"""The Bot: wiring, start-up order and shutdown order."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import pkgutil

import discord
from discord.ext import commands

import cogs
from bot.i18n.translator import CatalogTranslator
from bot.images.fonts import check_fonts
from bot.services import Services

__all__ = ["CharacterBot", "command_tree_hash", "extension_names"]

log = logging.getLogger(__name__)


def extension_names() -> list[str]:
    """Every extension in ``cogs/``: its packages and modules not starting with ``_``."""
    return sorted(
        f"cogs.{info.name}"
        for info in pkgutil.iter_modules(cogs.__path__)
        if not info.name.startswith("_")
    )


def command_tree_hash(payload: list[dict[str, object]]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CharacterBot(commands.AutoShardedBot):
    def __init__(self, services: Services, *, force_sync: bool = False) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_reactions = True  # favorites by emoji; not privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            # Prompts are member text: nothing the bot sends may ping anyone by accident.
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=60.0,
        )
        self.services = services
        self._force_sync = force_sync
        self._announced_ready = False

    async def setup_hook(self) -> None:
        await self.services.open()
        # Pick the font now: a missing CJK font is one warning at start, not a surprise on
        # the first card. Opening font files blocks, so it runs off the event loop.
        await asyncio.to_thread(check_fonts)
        await self.tree.set_translator(CatalogTranslator(self.services.catalog))
        for name in extension_names():
            await self.load_extension(name)
        await self.sync_commands_if_changed(force=self._force_sync)
        await self.services.queue.start()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync only when the command tree changed since the last sync (or when forced).

        Discord allows 200 command creates a day per guild; syncing on every start wastes them.
        """
        guild_id = self.services.settings.dev_guild_id
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator
        payload = []
        for command in self.tree.get_commands(guild=guild):
            data = command.to_dict(self.tree)
            if translator is not None:
                data = await command.get_translated_payload(self.tree, translator)
            payload.append(data)
        digest = command_tree_hash(payload)
        key = f"command_hash:{guild_id or 'global'}"
        if not force and await self.services.storage.meta.get(key) == digest:
            log.info("Commands unchanged since the last sync; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        await self.services.storage.meta.set(key, digest)
        log.info("Synced %d commands to %s", len(synced), f"guild {guild_id}" if guild else "all")
        return True

    async def on_ready(self) -> None:
        # Jobs of servers that removed the bot while it was away are refunded, not run.
        await self.services.queue.keep_only_guilds({guild.id for guild in self.guilds})
        if self._announced_ready:
            return
        self._announced_ready = True
        log.info("Logged in as %s; serving %d guilds", self.user, len(self.guilds))

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.services.queue.leave_guild(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.services.queue.join_guild(guild.id)

    async def close(self) -> None:
        log.info("Shutting down")
        await self.services.queue.stop(self.services.settings.shutdown_grace_seconds)
        await super().close()
        await self.services.close()
