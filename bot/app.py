"""The composition root: the one module that knows both the core (``bot/``) and the Discord
layer (``cogs/``). It wires them, in the start-up and shutdown order.

Everything the Discord layer gives the core is handed over here, in ``setup_hook``: the
queue's observer (job delivery), the quota service's alert sink and the takedowns' message
remover. Extensions only add commands, views and listeners; none patches the tree or the
services when it loads.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

import discord
from discord.ext import commands

from bot.i18n.translator import CatalogTranslator
from bot.images.fonts import check_fonts
from bot.ops.job_watch import WatchedObserver
from bot.services import Services
from cogs._shared.alerts import AdminAlerts
from cogs._shared.context import ServicedBot
from cogs._shared.takedowns import DiscordMessageRemover
from cogs._shared.tree import CharacterTree
from cogs.pictures.delivery import DiscordDelivery

__all__ = ["EXTENSIONS", "CharacterBot", "command_tree_hash"]

log = logging.getLogger(__name__)

# Every extension the bot loads, in load order. A new package under cogs/ is added here;
# tests/unit/test_structure.py fails when one is missing.
EXTENSIONS = (
    "cogs.admin",
    "cogs.character",
    "cogs.gallery",
    "cogs.mydata",
    "cogs.pictures",
    "cogs.queue",
)


def command_tree_hash(payload: list[dict[str, object]]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CharacterBot(ServicedBot):
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
            # Owns the allowed-channel rule and error rendering for every command.
            tree_cls=CharacterTree,
            # Discord's error answers, counted for the metrics (every REST call passes here).
            http_trace=services.cockpit.metrics.discord_trace(),
            # None: as many shards as Discord recommends (GET /gateway/bot).
            shard_count=services.settings.shard_count,
            # None (discord.py's default, though typed list[int]): all of them. Else this
            # process's share; other processes run the rest (issue 25).
            shard_ids=services.settings.shard_ids,  # type: ignore[arg-type]
        )
        self.services = services
        self._force_sync = force_sync
        self._announced_ready = False
        self._connected_shards: set[int] = set()

    async def setup_hook(self) -> None:
        await self.services.open()
        # Pick the font now: a missing CJK font is one warning at start, not a surprise on
        # the first card. Opening font files blocks, so it runs off the event loop.
        await asyncio.to_thread(check_fonts)
        await self.tree.set_translator(CatalogTranslator(self.services.catalog))
        for name in EXTENSIONS:
            await self.load_extension(name)
        self.services.quotas.alert_sink = AdminAlerts(self)
        # Counted and logged on the way (bot/ops/job_watch.py), then delivered.
        self.services.queue.observer = WatchedObserver(
            DiscordDelivery(self), self.services.cockpit.metrics, self.services.storage
        )
        # Deleted pictures' messages, also those a stop left queued (bot/takedowns.py).
        self.services.takedowns.remover = DiscordMessageRemover(self)
        await self.sync_commands_if_changed(force=self._force_sync)
        await self.services.queue.start()
        self.services.takedowns.start()
        self.services.cockpit.start(
            self.services.queue,
            gateway_connected=self._every_shard_connected,
            gateway_latency=lambda: self.latency,
        )

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
        # Several processes starting together: one syncs, the others leave it to that one.
        async with self.services.storage.db.exclusive("command-sync") as mine:
            if not mine:
                log.info("Another process is syncing the commands; not syncing here")
                return False
            if not force and await self.services.storage.meta.get(key) == digest:
                log.info("Commands unchanged since the last sync; not syncing")
                return False
            synced = await self.tree.sync(guild=guild)
            await self.services.storage.meta.set(key, digest)
        log.info("Synced %d commands to %s", len(synced), f"guild {guild_id}" if guild else "all")
        return True

    # The heartbeat says whether the gateway is connected (python -m bot healthcheck): every
    # shard of this process, so one shard down is unhealthy even while the others run.
    def _every_shard_connected(self) -> bool:
        launched = set(self.shards)
        return bool(launched) and launched <= self._connected_shards and not self.is_closed()

    async def on_shard_connect(self, shard_id: int) -> None:
        self._connected_shards.add(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._connected_shards.add(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._connected_shards.discard(shard_id)

    async def on_ready(self) -> None:
        # Jobs of servers that removed the bot while it was away are refunded, not run.
        await self.services.queue.servers.keep_only(
            {guild.id for guild in self.guilds}, served=self._serves
        )
        if self._announced_ready:
            return
        self._announced_ready = True
        log.info("Logged in as %s; serving %d guilds", self.user, len(self.guilds))

    def _serves(self, guild_id: int) -> bool:
        """Whether this process's shards carry ``guild_id`` (Discord's sharding formula):
        only those servers' absence from READY says the bot left them."""
        if self.shard_ids is None or self.shard_count is None:
            return True
        return (guild_id >> 22) % self.shard_count in self.shard_ids

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.services.queue.servers.leave(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.services.queue.servers.join(guild.id)

    async def close(self) -> None:
        log.info("Shutting down")
        await self.services.cockpit.stop()
        await self.services.queue.stop(self.services.settings.shutdown_grace_seconds)
        await self.services.takedowns.stop()  # what is still queued waits for the next start
        await super().close()
        await self.services.close()
