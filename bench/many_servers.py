"""Benchmark: one bot process's memory with many servers (issue 25).

The fake Discord holds ``--servers`` servers (10,000 by default), each with its text channel
and roles. It recommends one gateway shard per 2,500 servers, as Discord requires sharding
past 2,500, and the bot starts without SHARD_COUNT (as many shards as Discord recommends)
and with its commands registered globally. Once every shard's READY and every server's
GUILD_CREATE have arrived, RSS is read from /proc/<pid>/status. Then ten members in ten
different servers each draw a character, and RSS is read again (VmHWM: the peak).

One process serving every server is the most a process of a cluster would hold; with
SHARD_IDS each process holds its shards' share (bench/processes.py measures two processes).

    .venv/bin/python bench/many_servers.py [--servers 10000]
"""

from __future__ import annotations

import math
import time

from _harness import (
    SERVERS_PER_SHARD,
    Result,
    bench_env,
    finished,
    mb,
    peak_rss_result,
    rss_kib,
    run_from_command_line,
    settled_rss,
)

# The 1,000-queued-jobs benchmark (bench/memory.py) holds the bot under 200 MB with one
# server; each server costs discord.py a guild, a channel and roles in its cache.
TARGET_MB = 300


async def main(servers: int) -> list[Result]:
    async with bench_env(latency=0.2, name="many_servers") as env:
        fake = env.discord
        guilds = [env.guild] + [fake.add_guild(f"Server {n}") for n in range(1, servers)]
        fake.recommended_shards = max(1, math.ceil(servers / SERVERS_PER_SHARD))
        started = time.monotonic()
        bot = await env.start_bot(wait_ready=False, dev_guild_id=None)
        await bot.wait_for_log(rf"serving {servers} guilds", timeout=600)
        ready_s = time.monotonic() - started
        pid, idle = await settled_rss(bot)

        step = max(1, servers // 10)
        members = [guilds[n].add_member(f"member{n}") for n in range(0, servers, step)][:10]
        handles = [
            await m.slash("character create", name=f"Aiko{i}", description="silver hair")
            for i, m in enumerate(members)
        ]
        for handle in handles:
            await handle.wait_original(finished, timeout=120)
        busy = rss_kib(pid)
        details = {
            "servers": servers,
            "shards": fake.recommended_shards,
            "seconds_to_ready": round(ready_s, 1),
            "rss_mb_when_ready": mb(idle["VmRSS"]),
            "rss_mb_after_ten_pictures": mb(busy["VmRSS"]),
            "peak_rss_mb": mb(busy["VmHWM"]),
            "bot_errors": env.errors()[:10],
        }
    metric = f"peak RSS MB of one process ({servers:,} servers)"
    return peak_rss_result("many_servers", metric, mb(busy["VmHWM"]), TARGET_MB, details)


if __name__ == "__main__":
    run_from_command_line(main, __doc__ or "", servers=10_000)
