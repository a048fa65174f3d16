"""Benchmark: several bot processes on one PostgreSQL database (issue 25).

Jobs per minute with one process and with two (shards 0 and 1 of 2), each run on a fresh
database with the same fakes: image latency ``--latency`` s (2 by default), a generous
images-per-minute budget, ``--concurrent`` drawings at once for all processes together
(MAX_CONCURRENT_JOBS is shared), ``--jobs`` members each asking once, spread evenly over
one server per shard. Then the cost of sharing one queue when it is long: with
``--queued`` jobs waiting (100,000 by default), the p99 of a claim within the shared limits
and the median of one look for other processes' jobs (what each process does every
QUEUE_POLL_SECONDS). Last, each process's peak RSS when two processes split ``--servers``
servers (10,000: 4 shards, 2 each) and ten members in ten servers draw a picture.

    .venv/bin/python bench/processes.py [--jobs 60] [--queued 100000] [--servers 10000]
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from _harness import (
    GENEROUS,
    SERVERS_PER_SHARD,
    Result,
    finished,
    mb,
    rss_kib,
    run_from_command_line,
)

from bot.storage import SharedLimits, Storage
from tests.botproc import BotProcess
from tests.fakes.discord import FakeDiscord
from tests.fakes.openai import FakeOpenAI
from tests.postgres_server import PostgresServer, find_pg_bin

CLAIMS = 200  # claims timed with the long queue


def _p99(values: list[float]) -> float:
    return round(sorted(values)[max(0, int(len(values) * 0.99) - 1)] * 1000, 1)


async def _start(
    discord: FakeDiscord,
    openai: FakeOpenAI,
    url: str,
    folder: Path,
    processes: int,
    shards: int,
    **settings: str,
) -> list[BotProcess]:
    """``processes`` bots on one database and one DATA_DIR, splitting ``shards`` shards."""
    bots: list[BotProcess] = []
    for n in range(processes):
        env = {
            "DISCORD_TOKEN": discord.bot_token,
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.base_url,
            "DISCORD_API_BASE": discord.base_url,
            "DATA_DIR": str(folder / "data"),  # one shared folder
            "DATABASE_URL": url,
            "SHARD_COUNT": str(shards),
            "LOG_LEVEL": "INFO",
            **GENEROUS,
            **settings,
        }
        if processes > 1:
            env["SHARD_IDS"] = ",".join(str(i) for i in range(n, shards, processes))
        bot = BotProcess(env, folder / f"cwd{n}")
        bots.append(bot)
        await bot.start()
    for bot in bots:
        await bot.wait_for_log(r"Logged in as", timeout=600)
    await discord.wait_until_ready(timeout=60)
    return bots


async def _jobs_per_minute(
    server: PostgresServer, processes: int, jobs: int, latency: float, concurrent: int
) -> tuple[float, list[str]]:
    url = await server.fresh_database(migrated=False)
    with TemporaryDirectory(prefix="bench-processes-") as tmp:
        async with FakeDiscord() as discord, FakeOpenAI(latency=latency) as openai:
            guilds = [
                discord.add_guild(f"Shard {i}", on_shard=(i, processes)) for i in range(processes)
            ]
            bots = await _start(
                discord,
                openai,
                url,
                Path(tmp),
                processes,
                processes,
                PARTIAL_IMAGES="0",
                MAX_CONCURRENT_JOBS=str(concurrent),
                IMAGES_PER_MINUTE="10000",
                QUEUE_POLL_SECONDS="0.5",
            )
            members = [guilds[n % processes].add_member(f"member{n}") for n in range(jobs)]
            started = time.monotonic()
            handles = [
                await m.slash("character create", name=f"Aiko{n}", description="silver hair")
                for n, m in enumerate(members)
            ]
            for handle in handles:
                await handle.wait_original(finished, timeout=600)
            elapsed = time.monotonic() - started
            errors = [line for bot in bots for line in bot.unexpected_errors()][:5]
            for bot in bots:
                await bot.stop(timeout=30)
    await server.drop(url)
    return jobs / elapsed * 60, errors


async def _rss_per_process(server: PostgresServer, servers: int, processes: int) -> list[float]:
    """Peak RSS (MB) of each of ``processes`` bots splitting ``servers`` servers on one
    shard per 2,500, after ten pictures in ten servers."""
    url = await server.fresh_database(migrated=False)
    shards = max(processes, math.ceil(servers / SERVERS_PER_SHARD))
    with TemporaryDirectory(prefix="bench-processes-") as tmp:
        async with FakeDiscord() as discord, FakeOpenAI(latency=0.2) as openai:
            guilds = [discord.add_guild(f"Server {n}") for n in range(servers)]
            bots = await _start(discord, openai, url, Path(tmp), processes, shards)
            step = max(1, servers // 10)
            handles = [
                await guilds[n]
                .add_member(f"member{n}")
                .slash("character create", name=f"Aiko{n}", description="silver hair")
                for n in range(0, servers, step)
            ][:10]
            for handle in handles:
                await handle.wait_original(finished, timeout=300)
            peaks = [mb(rss_kib(bot.process.pid)["VmHWM"]) for bot in bots if bot.process]
            for bot in bots:
                await bot.stop(timeout=30)
    await server.drop(url)
    return peaks


async def _long_queue(server: PostgresServer, queued: int) -> dict[str, float]:
    url = await server.fresh_database()
    storage = Storage(Path("unused"), url, worker="shards-0")
    await storage.open()
    try:
        async with storage.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO jobs (guild_id, channel_id, user_id, kind, request_json,"
                " image_count, locale, created_at)"
                " SELECT 10 + n % 50, 20, n, 'create', '{}', 1, 'en', 0"
                " FROM generate_series(1, ?) AS n",
                (queued,),
            )
        await storage.db.execute("ANALYZE jobs")
        shared = SharedLimits(max_running=CLAIMS + 1, per_minute=CLAIMS + 1)
        claims: list[float] = []
        for job_id in range(1, CLAIMS + 1):
            began = time.perf_counter()
            assert await storage.jobs.mark_running(job_id, shared)
            claims.append(time.perf_counter() - began)
        looks: list[float] = []
        for _ in range(5):
            began = time.perf_counter()
            await storage.leases.waiting()
            looks.append(time.perf_counter() - began)
    finally:
        await storage.close()
        await server.drop(url)
    return {"claim_p99_ms": _p99(claims), "look_median_ms": round(statistics.median(looks) * 1000)}


async def main(
    jobs: int, latency: float, concurrent: int, queued: int, servers: int
) -> list[Result]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed (pg_ctl, initdb)")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        one, one_errors = await _jobs_per_minute(server, 1, jobs, latency, concurrent)
        two, two_errors = await _jobs_per_minute(server, 2, jobs, latency, concurrent)
        long_queue = await _long_queue(server, queued)
        peaks = await _rss_per_process(server, servers, 2)
    finally:
        server.stop()
    ceiling = concurrent / latency * 60
    details = {
        "jobs": jobs,
        "latency_s": latency,
        "concurrent_for_all": concurrent,
        "ceiling_jobs_per_minute": round(ceiling),
        "one_process_jobs_per_minute": round(one, 1),
        "two_processes_jobs_per_minute": round(two, 1),
        "queued": queued,
        **long_queue,
        "bot_errors": (one_errors + two_errors)[:10],
    }
    memory = {"servers": servers, "processes": 2, "peak_rss_mb_each": peaks}
    return [
        Result(
            name="processes_throughput",
            metric="jobs per minute, two processes ÷ one (the limits are shared)",
            value=round(two / one, 2),
            target=">= 0.9",
            met=two / one >= 0.9,
            details=details,
        ),
        Result(
            name="processes_claim_p99",
            metric=f"p99 ms of a claim within the shared limits, {queued:,} queued",
            value=long_queue["claim_p99_ms"],
            target="< 50 ms",
            met=long_queue["claim_p99_ms"] < 50,
            details=long_queue,
        ),
        Result(
            name="processes_rss",
            metric=f"peak RSS MB of the larger of 2 processes ({servers:,} servers)",
            value=max(peaks),
            target="< 300 MB",
            met=max(peaks) < 300,
            details=memory,
        ),
    ]


if __name__ == "__main__":
    run_from_command_line(
        main, __doc__ or "", jobs=60, latency=2.0, concurrent=10, queued=100_000, servers=10_000
    )
