"""Starting, syncing and stopping the real process, as a server owner would."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import StartBot, World
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import Guild


async def test_connects_logs_name_and_guilds_and_stops_cleanly_on_sigterm(
    start_bot: StartBot, fake_discord: FakeDiscord
) -> None:
    bot = await start_bot()
    line = await bot.wait_for_log(r"Logged in as")
    assert "fake_bot" in line and "serving 1 guilds" in line
    started = time.monotonic()
    assert await bot.stop(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert fake_discord.bot_token not in bot.output


@pytest.mark.provokes_violations("unauthorized")
async def test_a_token_discord_rejects_is_a_clear_configuration_error(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(wait_ready=False, discord_token="not-the-right-token")
    assert await bot.wait_exit(timeout=30) == 2
    assert "DISCORD_TOKEN was rejected" in bot.output
    assert "Traceback" not in bot.output
    assert "not-the-right-token" not in bot.output


async def test_commands_sync_once_and_again_only_when_forced(
    start_bot: StartBot, fake_discord: FakeDiscord, guild: Guild
) -> None:
    first = await start_bot()
    assert len(fake_discord.command_syncs) == 1
    names = {command["name"] for command in fake_discord.synced_commands(guild)}
    assert {"character", "queue"} <= names
    await first.stop()

    second = await start_bot()
    await second.wait_for_log("Commands unchanged since the last sync")
    assert len(fake_discord.command_syncs) == 1  # a restart spends none of the 200 daily creates
    await second.stop()

    await start_bot("--sync")
    assert len(fake_discord.command_syncs) == 2


async def test_every_command_is_offered_in_servers_only_never_in_direct_messages(
    start_bot: StartBot, fake_discord: FakeDiscord
) -> None:
    """Synced globally (as in production), no command shows up in a member's DMs: each one
    works on a server's characters, pictures, queue or settings."""
    await start_bot(dev_guild_id=None)
    synced = fake_discord.synced_commands()
    assert {"character", "gallery", "queue", "config"} <= {c["name"] for c in synced}
    offered_in_dms = [c["name"] for c in synced if c["contexts"] != [0] or c["dm_permission"]]
    assert offered_in_dms == []


async def test_secrets_never_reach_logs_even_at_debug(start_bot: StartBot, world: World) -> None:
    bot = await start_bot(log_level="DEBUG")
    alice = world.guild.add_member("alice")
    h = await alice.slash("character create", name="Aiko", description="silver hair")
    await h.wait_original(lambda m: bool(m.attachments), timeout=20)
    await bot.stop()
    assert "DEBUG" in bot.output  # the chatty level really was on
    assert world.discord.bot_token not in bot.output
    assert world.openai.api_key not in bot.output
