"""``python -m bot healthcheck``, end to end: a second process judges the running bot (its
heartbeat file, its gateway connection, its database), as Docker's HEALTHCHECK does."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.conftest import StartBot
from tests.e2e.helpers import database_busy
from tests.fakes.discord import FakeDiscord

BEAT = "0.3"  # HEARTBEAT_SECONDS: stale after three of these


async def healthcheck(start_bot: StartBot) -> tuple[int, str]:
    """Run the health check against the bot's DATA_DIR: its exit status and what it said."""
    check = await start_bot("healthcheck", wait_ready=False, HEARTBEAT_SECONDS=BEAT)
    code = await check.wait_exit(timeout=30)
    return code, check.output


async def health_becomes(start_bot: StartBot, healthy: bool, timeout: float = 20) -> str:
    """Run the check until it gives the wanted verdict; what it said then."""
    async with asyncio.timeout(timeout):
        while True:
            code, said = await healthcheck(start_bot)
            if (code == 0) == healthy:
                return said


async def test_healthy_while_running_and_not_once_stopped(
    start_bot: StartBot, data_dir: Path
) -> None:
    bot = await start_bot(HEARTBEAT_SECONDS=BEAT)
    assert await health_becomes(start_bot, healthy=True) == "healthy"
    assert (data_dir / "heartbeat.json").is_file()

    assert await bot.stop() == 0
    code, said = await healthcheck(start_bot)
    assert code == 1
    assert "no heartbeat: the bot is not running" in said


async def test_unhealthy_when_the_database_is_locked(start_bot: StartBot, data_dir: Path) -> None:
    await start_bot(HEARTBEAT_SECONDS=BEAT)
    await health_becomes(start_bot, healthy=True)
    with database_busy(data_dir):
        code, said = await healthcheck(start_bot)
    assert code == 1
    assert "the database does not answer (database is locked)" in said
    assert await health_becomes(start_bot, healthy=True) == "healthy"


async def test_unhealthy_when_the_bot_is_killed_and_its_heartbeat_goes_stale(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(HEARTBEAT_SECONDS=BEAT)
    await health_becomes(start_bot, healthy=True)
    await bot.kill()  # no chance to remove the heartbeat: it must go stale
    said = await health_becomes(start_bot, healthy=False)
    assert "the heartbeat is" in said and "stuck or stopped" in said


async def test_unhealthy_while_the_gateway_is_disconnected(
    start_bot: StartBot, fake_discord: FakeDiscord
) -> None:
    await start_bot(HEARTBEAT_SECONDS=BEAT)
    await health_becomes(start_bot, healthy=True)
    # An invalidated session: discord.py waits about 5 s before it identifies again.
    await fake_discord.drop_gateway(resume=False)
    said = await health_becomes(start_bot, healthy=False)
    assert "the Discord gateway is not connected" in said
    assert await health_becomes(start_bot, healthy=True, timeout=30) == "healthy"
