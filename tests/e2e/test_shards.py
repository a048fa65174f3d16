"""Sharding, end to end: the bot runs SHARD_COUNT gateway shards (or as many as Discord
recommends) and serves the servers of every one of them.

The fake gateway routes as Discord documents: a server's events go to the shard
``(guild_id >> 22) % num_shards``, and each shard's READY lists only its own servers.
"""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import StartBot, World
from tests.e2e.helpers import created, image_ids


def readies(world: World) -> dict[int, tuple[list[int], set[int]]]:
    """Each shard's READY as the fake sent it: [shard_id, num_shards] and the guild ids."""
    found = {}
    for record in world.discord.gateway.log:
        if record.direction == "send" and record.t == "READY":
            shard = record.d["shard"]
            found[shard[0]] = (shard, {int(g["id"]) for g in record.d["guilds"]})
    return found


async def test_two_shards_each_get_their_own_servers_and_both_servers_get_pictures(
    world: World, start_bot: StartBot
) -> None:
    east = world.discord.add_guild("East", on_shard=(0, 2))
    west = world.discord.add_guild("West", on_shard=(1, 2))
    bot = await start_bot(dev_guild_id=None, shard_count=2)

    ready = readies(world)
    assert sorted(ready) == [0, 1]
    assert ready[0][0] == [0, 2] and ready[1][0] == [1, 2]
    assert east.id in ready[0][1] and east.id not in ready[1][1]
    assert west.id in ready[1][1] and west.id not in ready[0][1]
    everyone = set(world.discord.guilds)
    assert ready[0][1] | ready[1][1] == everyone and not ready[0][1] & ready[1][1]
    assert f"serving {len(everyone)} guilds" in bot.output

    # A member on each shard: the command reaches the bot through that shard's connection.
    pictures = await asyncio.gather(
        created(east.add_member("aiko"), "Aiko", "silver hair"),
        created(west.add_member("ren"), "Ren", "red scarf"),
    )
    assert all(image_ids(picture) for picture in pictures)


async def test_without_shard_count_the_bot_runs_as_many_shards_as_discord_recommends(
    world: World, start_bot: StartBot
) -> None:
    world.discord.recommended_shards = 2
    west = world.discord.add_guild("West", on_shard=(1, 2))
    await start_bot(dev_guild_id=None)

    assert {shard: info[0] for shard, info in readies(world).items()} == {0: [0, 2], 1: [1, 2]}
    picture = await created(west.add_member("ren"), "Ren", "red scarf")
    assert image_ids(picture)


async def test_one_shard_down_makes_the_bot_unhealthy_until_it_is_back(
    world: World, start_bot: StartBot
) -> None:
    await start_bot(dev_guild_id=None, shard_count=2, heartbeat_seconds=0.3)

    async def health() -> tuple[int, str]:
        check = await start_bot("healthcheck", wait_ready=False, heartbeat_seconds=0.3)
        return await check.wait_exit(timeout=30), check.output

    async def becomes(healthy: bool, timeout: float) -> str:
        async with asyncio.timeout(timeout):
            while True:
                code, said = await health()
                if (code == 0) == healthy:
                    return said

    await becomes(healthy=True, timeout=20)
    # Shard 1's session is invalidated; shard 0 stays connected. discord.py identifies
    # shard 1 again after about 5 s.
    await world.discord.drop_gateway(resume=False, shard=1)
    said = await becomes(healthy=False, timeout=20)
    assert "the Discord gateway is not connected" in said
    assert await becomes(healthy=True, timeout=40) == "healthy"
